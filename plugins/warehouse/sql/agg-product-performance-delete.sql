-- Recomputed for the product versions that new facts refer to.
DELETE FROM warehouse.agg_product_performance
WHERE product_key IN (SELECT product_key FROM warehouse_new_sales)
