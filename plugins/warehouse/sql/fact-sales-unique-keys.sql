-- fact_sales' primary key and unique item_id key as this database defines them, read before a
-- large load drops them so that they are re-added the same: sales_key alone on plain PostgreSQL,
-- with the distribution column on a Citus cluster (migration 1764100030000). Primary key first.
SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
WHERE c.conrelid = 'warehouse.fact_sales'::regclass AND c.contype IN ('p', 'u')
ORDER BY c.contype, c.conname
