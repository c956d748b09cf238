-- New facts. Rows go in item_id order so that sales_key follows the data, not the plan.
INSERT INTO warehouse.fact_sales
  (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
   quantity, unit_price, discount_amount, discount_percentage, line_total, profit)
SELECT item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
       quantity, unit_price, discount_amount, discount_percentage, line_total, profit
FROM warehouse_fact_targets
WHERE action = 'insert'
ORDER BY item_id COLLATE "C"
