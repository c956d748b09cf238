import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import pg from 'pg';
import { PermanentError, type StageTransaction } from '@pipeline/kernel';

/**
 * Column types whose value reaches the CSV exactly as PostgreSQL printed it: node-postgres
 * leaves text, numeric and bigint as the server's text, and turns int2/int4 into JS integers
 * that print back identically. Anything else (float, date, boolean, json) would be re-formatted
 * by JavaScript, so a query must cast such a column to text itself.
 */
const EXACT_TYPE_OIDS = new Map<number, string>([
  [19, 'name'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1700, 'numeric'],
]);

/** The text types among them: their values are what a spreadsheet might take for a formula. */
const TEXT_TYPES = new Map<number, string>([
  [19, 'name'],
  [25, 'text'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
]);

/**
 * First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection"): a
 * product named `=HYPERLINK(...)` or `@SUM(...)` would run when an analyst opens the export. Tab
 * and carriage return are on OWASP's list too; a line feed is added, as another line break.
 */
export const FORMULA_STARTS: readonly string[] = ['=', '+', '-', '@', '\t', '\r', '\n'];

/**
 * The export's query with every text value that starts like a formula prefixed with a single
 * quote, as OWASP advises: spreadsheets show the value as text, and the quote shows the reader it
 * was neutralised. Numbers are left alone (`-12.50` is a number, not a formula). Done in SQL, in
 * the one query both export paths run, so that COPY and the cursor write the same bytes.
 */
export function withoutFormulas(sql: string, fields: readonly pg.FieldDef[]): string {
  const starts = FORMULA_STARTS.map((c) => pg.escapeLiteral(c)).join(', ');
  const columns = fields.map((field) => {
    const column = pg.escapeIdentifier(field.name);
    const type = TEXT_TYPES.get(field.dataTypeID);
    // Cast back to the column's own type, so that values left alone print exactly as before.
    return type
      ? `CASE WHEN left(${column}::text, 1) IN (${starts}) THEN ('''' || ${column}::text)::${type} ELSE ${column} END AS ${column}`
      : column;
  });
  return `SELECT ${columns.join(', ')} FROM (${sql}\n) exported`;
}

/**
 * One field, RFC 4180: quoted when it holds a comma, quote or line break; NULL is empty, '' is "".
 * Exactly as PostgreSQL's COPY ... (FORMAT csv) writes it, which also quotes a lone `\.` (its
 * end-of-data marker), so that both export paths give the same bytes.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  if (text === '' || text === '\\.' || /[",\r\n]/.test(text)) return `"${text.replaceAll('"', '""')}"`;
  return text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\n`;
}

export interface ExportedQuery {
  readonly rows: number;
  readonly columns: readonly string[];
}

const CURSOR = 'analytics_export';

type ExportableQuery = { readonly name: string; readonly sql: string; readonly params: readonly unknown[] };

/**
 * Runs a query and writes its rows as CSV to `path`, with memory bounded whatever the result size
 * (the per-customer query grows with the customer count), text values that start like a formula
 * neutralised (`withoutFormulas`). Where the database can, the server writes the CSV itself (COPY
 * TO STDOUT: no row is parsed and formatted again here, which was most of the time of the
 * 100k-row exports); otherwise rows come through a server-side cursor, `batchRows` per round trip.
 * Both give the same bytes. Must run inside a transaction (cursors live in one). On failure the
 * partial file is removed.
 */
export async function exportQueryToCsv(
  tx: StageTransaction,
  query: ExportableQuery,
  path: string,
  batchRows: number,
): Promise<ExportedQuery> {
  const sql = query.sql.trim().replace(/;$/, '');
  // The columns and their types, without running the query (a LIMIT 0 never reads its input).
  const described = await tx.query(`SELECT * FROM (${sql}\n) described LIMIT 0`, query.params);
  assertExactTypes(query.name, described.fields);
  const columns = described.fields.map((field) => field.name);
  const safe = { ...query, sql: withoutFormulas(sql, described.fields) };
  if (tx.copyCsvOut) return exportByCopy(tx.copyCsvOut, safe, path, columns);
  const file = await open(path, 'w');
  let rows = 0;
  try {
    await file.write(csvLine(columns));
    await tx.query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${safe.sql}`, query.params);
    for (;;) {
      const batch = await tx.query(`FETCH FORWARD ${batchRows} FROM ${CURSOR}`);
      if (batch.rows.length === 0) break;
      await file.write(
        batch.rows.map((row) => csvLine(columns.map((c) => (row as Record<string, unknown>)[c]))).join(''),
      );
      rows += batch.rows.length;
      if (batch.rows.length < batchRows) break;
    }
    await tx.query(`CLOSE ${CURSOR}`);
    // The rename that publishes the file must not outrun its contents after a crash.
    await file.sync();
    await file.close();
    return { rows, columns };
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
}

async function exportByCopy(
  copyCsvOut: NonNullable<StageTransaction['copyCsvOut']>,
  query: ExportableQuery,
  path: string,
  columns: readonly string[],
): Promise<ExportedQuery> {
  try {
    // flush: fsynced before it closes, because the rename that publishes the file must not
    // outrun its contents after a crash.
    const rows = await copyCsvOut(
      withLiterals(query.sql, query.params),
      createWriteStream(path, { flush: true }),
    );
    return { rows, columns };
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}

/**
 * COPY takes no parameters: each `$n` becomes the quoted literal of its value, in the text form
 * the driver would have sent. The queries cast every parameter (`$1::date`), so the literal reads
 * as the same typed value.
 */
export function withLiterals(sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)(?!\d)/g, (placeholder, digits: string) => {
    const index = Number(digits) - 1;
    if (index >= params.length) throw new Error(`${placeholder} has no parameter`);
    const value = prepareValue(params[index]);
    return value === null ? 'NULL' : pg.escapeLiteral(String(value));
  });
}

// node-postgres' own conversion of a parameter to its text form (arrays as array literals);
// exported at run time, not in its type declarations.
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): string | Buffer | null } })
  .utils.prepareValue;

function assertExactTypes(queryName: string, fields: readonly pg.FieldDef[]): void {
  const names = new Set<string>();
  for (const field of fields) {
    if (names.has(field.name))
      throw new PermanentError(`analytics ${queryName}: column "${field.name}" appears twice`);
    names.add(field.name);
    if (!EXACT_TYPE_OIDS.has(field.dataTypeID)) {
      throw new PermanentError(
        `analytics ${queryName}: column "${field.name}" has type oid ${field.dataTypeID}, which the driver would re-format; cast it to text or numeric in the SQL`,
      );
    }
  }
}
