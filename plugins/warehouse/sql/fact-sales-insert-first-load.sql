-- The first load (fact_sales empty): every production item goes straight into fact_sales, with
-- the same lookups and columns as fact-targets.sql followed by fact-sales-insert.sql, without
-- writing, analysing and reading back a temporary copy of every item (at 300,000 items that copy
-- cost more than the join itself). A lookup miss leaves a NULL that the NOT NULL key columns
-- refuse; the stage then rolls this statement back and names the misses through the general path.
-- discount_amount as in fact-targets.sql. The sales set aside (sales-set-aside-collect.sql) stay out.
-- Rows go in item_id order so that sales_key follows the data, not the plan.
INSERT INTO warehouse.fact_sales
  (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
   quantity, unit_price, discount_amount, discount_percentage, line_total, profit)
SELECT i.item_id,
       dd.date_key,
       cs.customer_key,
       ps.product_key,
       pm.payment_method_key,
       i.transaction_id,
       i.quantity,
       i.unit_price,
       i.quantity * i.unit_price - i.line_total,
       i.discount_percentage,
       i.line_total,
       i.line_total - i.quantity * pc.cost
FROM production.transaction_items i
JOIN production.transactions t ON t.transaction_id = i.transaction_id
LEFT JOIN warehouse.dim_date dd ON dd.full_date = t.transaction_date
LEFT JOIN warehouse_customer_spans cs
       ON cs.customer_id = t.customer_id AND cs.from_date <= t.transaction_date AND t.transaction_date < cs.to_date
LEFT JOIN warehouse_product_spans ps
       ON ps.product_id = i.product_id AND ps.from_date <= t.transaction_date AND t.transaction_date < ps.to_date
LEFT JOIN warehouse_product_costs pc
       ON pc.product_id = i.product_id AND pc.from_date <= t.transaction_date AND t.transaction_date < pc.to_date
LEFT JOIN warehouse.dim_payment_method pm ON pm.payment_method_name = t.payment_method
LEFT JOIN warehouse_sales_set_aside a ON a.transaction_id = t.transaction_id
WHERE a.transaction_id IS NULL
ORDER BY i.item_id COLLATE "C"
