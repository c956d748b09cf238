-- validity: products whose price or cost is not a number production can hold: NaN, Infinity,
-- -Infinity (staging's numeric takes them; NaN compares above every number, so "price > 0" alone
-- lets it through), or 10^10 and more, beyond production's numeric(12,2). One test per field:
-- abs() of NaN and of either infinity is not below 10^10 either. $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_numbers_finite',
       'not a finite number below 10^10: ' || concat_ws(', ',
         CASE WHEN abs(r.price) >= 1e10 THEN 'price ' || r.price END,
         CASE WHEN abs(r.cost) >= 1e10 THEN 'cost ' || r.cost END
       ),
       to_jsonb(r)
FROM staging.products r
WHERE abs(r.price) >= 1e10 OR abs(r.cost) >= 1e10;
