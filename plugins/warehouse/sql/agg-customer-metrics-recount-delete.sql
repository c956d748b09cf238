-- Recounted: the customer versions of agg-customer-metrics-recount-collect.sql.
DELETE FROM warehouse.agg_customer_metrics
WHERE customer_key IN (SELECT customer_key FROM warehouse_recount_customers)
