-- validity: products with a negative cost.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_cost_non_negative', format('cost %s is below 0', r.cost), to_jsonb(r)
FROM staging.products r
WHERE r.cost < 0;
