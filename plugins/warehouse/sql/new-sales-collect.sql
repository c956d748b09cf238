-- The increment: every production item not yet in fact_sales, with its surrogate keys looked up
-- as of the transaction date (the dimension version whose [effective_date, end_date) holds it).
-- A NULL key here is a lookup miss, reported before anything reaches fact_sales.
-- $1 = when the latest run that added facts started ('-infinity' while fact_sales is empty): items
-- created before it were loaded by that run or an earlier one (README, "What counts as new"), so
-- only the items from then on are read, through the index of migration 0007; the anti-join on
-- item_id still decides which of them are new.
CREATE TEMP TABLE warehouse_new_sales ON COMMIT DROP AS
SELECT i.item_id,
       i.transaction_id,
       t.transaction_date,
       t.customer_id,
       i.product_id,
       t.payment_method,
       i.quantity,
       i.unit_price,
       i.discount_percentage,
       i.line_total,
       p.cost,
       dd.date_key,
       dc.customer_key,
       dp.product_key,
       pm.payment_method_key
FROM production.transaction_items i
JOIN production.transactions t ON t.transaction_id = i.transaction_id
JOIN production.products p ON p.product_id = i.product_id
LEFT JOIN warehouse.dim_date dd ON dd.full_date = t.transaction_date
LEFT JOIN warehouse.dim_customers dc
       ON dc.customer_id = t.customer_id AND dc.effective_date <= t.transaction_date AND t.transaction_date < dc.end_date
LEFT JOIN warehouse.dim_products dp
       ON dp.product_id = i.product_id AND dp.effective_date <= t.transaction_date AND t.transaction_date < dp.end_date
LEFT JOIN warehouse.dim_payment_method pm ON pm.payment_method_name = t.payment_method
WHERE greatest(i.created_at, i.updated_at) >= $1::timestamptz
  AND NOT EXISTS (SELECT 1 FROM warehouse.fact_sales f WHERE f.item_id = i.item_id)
