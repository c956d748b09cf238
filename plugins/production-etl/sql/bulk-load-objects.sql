-- What a bulk load of the fact tables sets aside and rebuilds ("Populating a Database" in the
-- PostgreSQL manual): their foreign keys and their secondary indexes (not those behind a primary
-- key or unique constraint). Names and definitions come from the catalog, never from data; each
-- is rebuilt exactly as declared. Indexes first, then the keys (each re-validates every row).
SELECT kind, name, drop_sql, create_sql
FROM (
  SELECT 0 AS position, 'index' AS kind, ic.relname AS name,
         format('DROP INDEX %I.%I', n.nspname, ic.relname) AS drop_sql,
         pg_get_indexdef(i.indexrelid) AS create_sql
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class r ON r.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
  WHERE n.nspname = 'production'
    AND r.relname IN ('transactions', 'transaction_items')
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  SELECT 1, 'foreign_key', c.conname,
         format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, r.relname, c.conname),
         format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, r.relname, c.conname, pg_get_constraintdef(c.oid))
  FROM pg_constraint c
  JOIN pg_class r ON r.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
  WHERE c.contype = 'f'
    AND n.nspname = 'production'
    AND r.relname IN ('transactions', 'transaction_items')
) objects
ORDER BY position, name
