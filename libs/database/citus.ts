/**
 * Whether this database is the coordinator of a Citus cluster (the `citus` extension is created
 * in it), which the distribution layout (migration 1764100030000) and a few statements depend on
 * (docs/operations.md, "Beyond one machine"). Plain PostgreSQL and the embedded database: false.
 */
const CITUS_PRESENT_SQL = `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`;

/** Anything that runs a query: a stage transaction, a migration's query runner, a pool. */
interface Queryable {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> } | Array<Record<string, unknown>>>;
}

export async function citusPresent(db: Queryable): Promise<boolean> {
  const result = await db.query(CITUS_PRESENT_SQL);
  const rows = Array.isArray(result) ? result : result.rows;
  return rows[0]?.citus === true;
}
