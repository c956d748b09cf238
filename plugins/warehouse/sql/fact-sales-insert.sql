-- Profit uses the product's cost as production holds it now: production keeps no cost history.
-- discount_amount is what the line total leaves of the gross amount, so the two add up to it
-- exactly; rounded apart, they missed it by a cent on thousands of lines.
-- Rows go in item_id order so that sales_key follows the data, not the plan.
INSERT INTO warehouse.fact_sales
  (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
   quantity, unit_price, discount_amount, discount_percentage, line_total, profit)
SELECT item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
       quantity,
       unit_price,
       quantity * unit_price - line_total,
       discount_percentage,
       line_total,
       line_total - quantity * cost
FROM warehouse_new_sales
ORDER BY item_id COLLATE "C"
