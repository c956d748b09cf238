-- The foreign keys declared on the fact tables, with the statements that drop them and re-add
-- them exactly as declared (names and definitions from the catalog, never from data).
SELECT c.conname AS name,
       format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, r.relname, c.conname) AS drop_sql,
       format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, r.relname, c.conname, pg_get_constraintdef(c.oid)) AS add_sql
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype = 'f'
  AND n.nspname = 'production'
  AND r.relname IN ('transactions', 'transaction_items')
ORDER BY CASE r.relname WHEN 'transactions' THEN 0 ELSE 1 END, c.conname
