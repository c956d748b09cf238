-- The recounted customer versions (agg-customer-metrics-recount-collect.sql), from all their facts.
-- avg_order_value: spend per distinct transaction of this customer version.
INSERT INTO warehouse.agg_customer_metrics (customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date)
SELECT f.customer_key,
       count(DISTINCT f.transaction_id),
       sum(f.line_total),
       round(sum(f.line_total) / count(DISTINCT f.transaction_id), 2),
       max(d.full_date)
FROM warehouse.fact_sales f
JOIN warehouse.dim_date d ON d.date_key = f.date_key
WHERE f.customer_key IN (SELECT customer_key FROM warehouse_recount_customers)
GROUP BY f.customer_key
