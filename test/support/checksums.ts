/**
 * Checksums of a database's business data, to compare two databases (or one before and after)
 * by content: what the rows say, not when or by which run they were written, nor which surrogate
 * numbers they got.
 */

/**
 * Columns left out: load and change timestamps (`now()` at write time) and the run that wrote a
 * row. They say when, not what.
 */
const VOLATILE = new Set([
  'loaded_at',
  'created_at',
  'updated_at',
  'removed_at',
  'rejected_at',
  'recorded_at',
  'withdrawn_at',
  'changed_at',
  'refreshed_at',
  'set_aside_since',
  'loaded_through',
  'run_id',
]);

/**
 * Surrogate keys come from sequences, which a crashed transaction advances without rolling back
 * and which number versions in the order they were created, so the same content can carry other
 * numbers. A table's own identity column is left out, and a reference to a dimension's key is
 * replaced by that dimension row's natural key (business id and version date).
 */
const KEY_REFERENCES: Readonly<Record<string, string>> = {
  customer_key: `(SELECT d.customer_id || '@' || d.effective_date FROM warehouse.dim_customers d WHERE d.customer_key = t.customer_key)`,
  product_key: `(SELECT d.product_id || '@' || d.effective_date FROM warehouse.dim_products d WHERE d.product_key = t.product_key)`,
  payment_method_key: `(SELECT d.payment_method_name FROM warehouse.dim_payment_method d WHERE d.payment_method_key = t.payment_method_key)`,
};

/** Anything that runs a query: a pg client or pool, or a Database's pool. */
export interface Queryable {
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * `count:md5` of every table of `schemas` (but `skip`): the md5 of its rows' text over the
 * business columns (see above), sorted, so equal contents give equal sums whatever the physical
 * order.
 */
export async function contentChecksums(
  db: Queryable,
  schemas: readonly string[] = ['staging', 'production', 'warehouse'],
  skip: ReadonlySet<string> = new Set(),
): Promise<Record<string, string>> {
  const { rows: columns } = await db.query<{ table: string; column: string; identity: boolean }>(
    `SELECT c.table_schema || '.' || c.table_name AS table, c.column_name AS column,
            (c.is_identity = 'YES') AS identity
     FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = ANY($1) AND t.table_type = 'BASE TABLE'
     ORDER BY 1, c.ordinal_position`,
    [schemas],
  );
  const byTable = new Map<string, string[]>();
  for (const c of columns) {
    if (skip.has(c.table)) continue;
    const list = byTable.get(c.table) ?? [];
    byTable.set(c.table, list);
    if (c.identity || VOLATILE.has(c.column)) continue;
    list.push(KEY_REFERENCES[c.column] ?? `t.${c.column}`);
  }
  const sums: Record<string, string> = {};
  for (const [table, exprs] of [...byTable].sort(([a], [b]) => a.localeCompare(b))) {
    const { rows } = await db.query<{ v: string }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE "C")), '-') AS v
       FROM (SELECT ROW(${exprs.join(', ')})::text AS r FROM ${table} t) x`,
    );
    sums[table] = rows[0]!.v;
  }
  return sums;
}
