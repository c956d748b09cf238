-- validity: items whose unit_price, discount_percentage or line_total is NaN, Infinity, -Infinity
-- or 10^10 and more (see products_numbers_finite.sql); quantity is an integer column, which takes
-- none of them (ingestion refuses the file). $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_numbers_finite',
       'not a finite number below 10^10: ' || concat_ws(', ',
         CASE WHEN abs(r.unit_price) >= 1e10 THEN 'unit_price ' || r.unit_price END,
         CASE WHEN abs(r.discount_percentage) >= 1e10 THEN 'discount_percentage ' || r.discount_percentage END,
         CASE WHEN abs(r.line_total) >= 1e10 THEN 'line_total ' || r.line_total END
       ),
       to_jsonb(r)
FROM staging.transaction_items r
WHERE abs(r.unit_price) >= 1e10 OR abs(r.discount_percentage) >= 1e10 OR abs(r.line_total) >= 1e10;
