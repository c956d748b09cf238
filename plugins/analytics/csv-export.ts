import { open, rm } from 'node:fs/promises';
import type pg from 'pg';
import { PermanentError, type StageTransaction } from '../../libs/kernel/index.js';

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

/** One field, RFC 4180: quoted when it holds a comma, quote or line break; NULL is empty, '' is "". */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  if (text === '' || /[",\r\n]/.test(text)) return `"${text.replaceAll('"', '""')}"`;
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

/**
 * Runs `sql` through a server-side cursor and writes its rows as CSV to `path`, `batchRows` rows
 * per round trip, so memory stays bounded whatever the result size (the per-customer query grows
 * with the customer count). Must run inside a transaction (cursors live in one).
 * On failure the partial file is removed.
 */
export async function exportQueryToCsv(
  tx: StageTransaction,
  query: { readonly name: string; readonly sql: string; readonly params: readonly unknown[] },
  path: string,
  batchRows: number,
): Promise<ExportedQuery> {
  const file = await open(path, 'w');
  let rows = 0;
  let columns: string[] = [];
  try {
    await tx.query(
      `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${query.sql.trim().replace(/;$/, '')}`,
      query.params,
    );
    for (;;) {
      const batch = await tx.query(`FETCH FORWARD ${batchRows} FROM ${CURSOR}`);
      if (rows === 0 && columns.length === 0) {
        columns = batch.fields.map((field) => field.name);
        assertExactTypes(query.name, batch.fields);
        await file.write(csvLine(columns));
      }
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
