-- Every rejected staged row, with its raw staging row as jsonb, under this run's id.
INSERT INTO production.rejected_rows (run_id, table_name, row_id, reason, row_data)
SELECT st.run_id, r.table_name, r.row_id, r.reason, r.row_data
FROM (
  SELECT 'customers' AS table_name, e.customer_id AS row_id, e.reason, to_jsonb(s) AS row_data
  FROM etl_customers e JOIN staging.customers s ON s.ctid = e.src WHERE e.reason IS NOT NULL
  UNION ALL
  SELECT 'products', e.product_id, e.reason, to_jsonb(s)
  FROM etl_products e JOIN staging.products s ON s.ctid = e.src WHERE e.reason IS NOT NULL
  UNION ALL
  SELECT 'transactions', e.transaction_id, e.reason, to_jsonb(s)
  FROM etl_transactions e JOIN staging.transactions s ON s.ctid = e.src WHERE e.reason IS NOT NULL
  UNION ALL
  SELECT 'transaction_items', e.item_id, e.reason, to_jsonb(s)
  FROM etl_transaction_items e JOIN staging.transaction_items s ON s.ctid = e.src WHERE e.reason IS NOT NULL
) r
CROSS JOIN etl_settings st
