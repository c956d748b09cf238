-- Their production side (an item withdrawn from production has none, nor has a sale set aside:
-- a fact it had is deleted, as if it had left production, until its date is corrected).
CREATE TEMP TABLE warehouse_target_sales ON COMMIT DROP AS
SELECT i.item_id, i.transaction_id, t.transaction_date, t.customer_id, i.product_id, t.payment_method,
       i.quantity, i.unit_price, i.discount_percentage, i.line_total, t.created_at AS transaction_created_at
FROM warehouse_target_items x
JOIN production.transaction_items i ON i.item_id = x.item_id
JOIN production.transactions t ON t.transaction_id = i.transaction_id
LEFT JOIN warehouse_sales_set_aside a ON a.transaction_id = t.transaction_id
WHERE a.transaction_id IS NULL
