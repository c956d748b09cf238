-- New items only, owned by this business date; no ON CONFLICT for the same reason as
-- insert-transactions.sql.
INSERT INTO production.transaction_items
  (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total, business_date)
SELECT i.item_id, i.transaction_id, i.product_id, i.quantity, i.unit_price, i.discount_percentage, i.line_total, st.run_date
FROM etl_transaction_items i
CROSS JOIN etl_settings st
WHERE i.reason IS NULL AND i.action = 'insert'
