-- validity: items whose unit_price, discount_percentage or line_total has more than two decimals
-- (see products_numbers_exact.sql). $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_numbers_exact',
       'more than two decimals (production would round): ' || concat_ws(', ',
         CASE WHEN min_scale(r.unit_price) > 2 THEN 'unit_price ' || r.unit_price END,
         CASE WHEN min_scale(r.discount_percentage) > 2 THEN 'discount_percentage ' || r.discount_percentage END,
         CASE WHEN min_scale(r.line_total) > 2 THEN 'line_total ' || r.line_total END
       ),
       to_jsonb(r)
FROM staging.transaction_items r
WHERE min_scale(r.unit_price) > 2 OR min_scale(r.discount_percentage) > 2 OR min_scale(r.line_total) > 2;
