-- validity: products with negative stock (stock_quantity is optional: NULL passes).
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_stock_non_negative', format('stock_quantity %s is below 0', r.stock_quantity), to_jsonb(r)
FROM staging.products r
WHERE r.stock_quantity < 0;
