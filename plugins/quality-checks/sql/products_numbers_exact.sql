-- validity: products whose price or cost has more than two decimals: production keeps cents, so
-- loading it would round it. By value, not by how it was written: 10.500 is exactly 10.50.
-- $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_numbers_exact',
       'more than two decimals (production would round): ' || concat_ws(', ',
         CASE WHEN min_scale(r.price) > 2 THEN 'price ' || r.price END,
         CASE WHEN min_scale(r.cost) > 2 THEN 'cost ' || r.cost END
       ),
       to_jsonb(r)
FROM staging.products r
WHERE min_scale(r.price) > 2 OR min_scale(r.cost) > 2;
