-- Recomputed for the customer versions that new facts refer to.
DELETE FROM warehouse.agg_customer_metrics
WHERE customer_key IN (SELECT customer_key FROM warehouse_new_sales)
