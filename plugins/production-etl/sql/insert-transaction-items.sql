-- New items only; no ON CONFLICT for the same reason as insert-transactions.sql.
INSERT INTO production.transaction_items
  (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total)
SELECT item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total
FROM etl_transaction_items
WHERE reason IS NULL AND action = 'insert'
