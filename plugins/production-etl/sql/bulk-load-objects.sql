-- What a bulk load of the fact tables sets aside and rebuilds ("Populating a Database" in the
-- PostgreSQL manual): their primary/unique keys (unless a table outside the two references them),
-- their other indexes, and their foreign keys. Names and definitions come from the catalog, never
-- from data; each is rebuilt exactly as declared. Listed in rebuild order (keys before the indexes
-- and the foreign keys that rely on them); they are dropped in the reverse order.
WITH fact_tables AS (
  SELECT r.oid, r.relname, n.nspname
  FROM pg_class r
  JOIN pg_namespace n ON n.oid = r.relnamespace
  WHERE n.nspname = 'production' AND r.relname IN ('transactions', 'transaction_items')
)
SELECT kind, name, drop_sql, create_sql
FROM (
  SELECT 0 AS position, 'unique_key' AS kind, c.conname AS name,
         format('ALTER TABLE %I.%I DROP CONSTRAINT %I', t.nspname, t.relname, c.conname) AS drop_sql,
         format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', t.nspname, t.relname, c.conname, pg_get_constraintdef(c.oid)) AS create_sql
  FROM pg_constraint c
  JOIN fact_tables t ON t.oid = c.conrelid
  WHERE c.contype IN ('p', 'u')
    AND NOT EXISTS (
      SELECT 1 FROM pg_constraint f
      WHERE f.contype = 'f' AND f.confrelid = c.conrelid AND f.conrelid NOT IN (SELECT oid FROM fact_tables)
    )
  UNION ALL
  SELECT 1, 'index', ic.relname,
         format('DROP INDEX %I.%I', t.nspname, ic.relname),
         pg_get_indexdef(i.indexrelid)
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN fact_tables t ON t.oid = i.indrelid
  WHERE NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
  UNION ALL
  SELECT 2, 'foreign_key', c.conname,
         format('ALTER TABLE %I.%I DROP CONSTRAINT %I', t.nspname, t.relname, c.conname),
         format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', t.nspname, t.relname, c.conname, pg_get_constraintdef(c.oid))
  FROM pg_constraint c
  JOIN fact_tables t ON t.oid = c.conrelid
  WHERE c.contype = 'f'
) objects
ORDER BY position, name
