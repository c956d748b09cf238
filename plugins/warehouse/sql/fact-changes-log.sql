-- Facts this run changes other than by appending, as they were: what the analytics summaries
-- recount (warehouse.fact_changes). Logged before the change, while their versions still exist.
INSERT INTO warehouse.fact_changes
  (sales_key, change, transaction_id, date_key, customer_key, customer_id, product_key, product_id, payment_method_key)
SELECT t.sales_key, t.action, t.old_transaction_id, t.old_date_key, t.old_customer_key, c.customer_id,
       t.old_product_key, p.product_id, t.old_payment_method_key
FROM warehouse_fact_targets t
JOIN warehouse.dim_customers c ON c.customer_key = t.old_customer_key
JOIN warehouse.dim_products p ON p.product_key = t.old_product_key
WHERE t.action IN ('update', 'delete')
ORDER BY t.sales_key
