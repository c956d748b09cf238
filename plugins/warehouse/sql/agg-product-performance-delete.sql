-- Recomputed for the product versions that new facts refer to ($1 = true: all of them).
DELETE FROM warehouse.agg_product_performance
WHERE $1::boolean OR product_key IN (SELECT product_key FROM warehouse_new_sales)
