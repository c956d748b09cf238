-- validity: products priced at 0 or below.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_price_positive', format('price %s is not above 0', r.price), to_jsonb(r)
FROM staging.products r
WHERE r.price <= 0;
