-- Recomputed for the customer versions that new facts refer to ($1 = true: all of them).
DELETE FROM warehouse.agg_customer_metrics
WHERE $1::boolean OR customer_key IN (SELECT customer_key FROM warehouse_new_sales)
