-- Every rejected staged row, with its raw staging row as jsonb, under this run's id. $1..$4 say
-- which tables have rejects at all (from the outcome counts): a table without any is not scanned
-- (the parameter folds to a constant false; at 1M transactions the item scan alone took ~0.4 s).
INSERT INTO production.rejected_rows (run_id, table_name, row_id, reason, row_data)
SELECT st.run_id, r.table_name, r.row_id, r.reason, r.row_data
FROM (
  SELECT 'customers' AS table_name, e.customer_id AS row_id, e.reason, to_jsonb(s) AS row_data
  FROM etl_customers e JOIN staging.customers s ON s.ctid = e.src WHERE $1::boolean AND e.reason IS NOT NULL
  UNION ALL
  SELECT 'products', e.product_id, e.reason, to_jsonb(s)
  FROM etl_products e JOIN staging.products s ON s.ctid = e.src WHERE $2::boolean AND e.reason IS NOT NULL
  UNION ALL
  SELECT 'transactions', e.transaction_id, e.reason, to_jsonb(s)
  FROM etl_transactions e JOIN staging.transactions s ON s.ctid = e.src WHERE $3::boolean AND e.reason IS NOT NULL
  UNION ALL
  SELECT 'transaction_items', e.item_id, e.reason, to_jsonb(s)
  FROM etl_transaction_items e JOIN staging.transaction_items s ON s.ctid = e.src WHERE $4::boolean AND e.reason IS NOT NULL
) r
CROSS JOIN etl_settings st
