-- completeness: rows of staging.products with a mandatory field NULL or blank (whitespace only).
-- $1 run id. One quarantine row per failing row, naming every missing field. The WHERE clause
-- filters cheaply; the list of names is built only for the rows that fail.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_missing_values',
       'blank mandatory field(s): ' || concat_ws(', ',
         CASE WHEN nullif(btrim(r.product_id), '') IS NULL THEN 'product_id' END,
         CASE WHEN nullif(btrim(r.product_name), '') IS NULL THEN 'product_name' END,
         CASE WHEN nullif(btrim(r.category), '') IS NULL THEN 'category' END,
         CASE WHEN r.price IS NULL THEN 'price' END,
         CASE WHEN r.cost IS NULL THEN 'cost' END
       ),
       to_jsonb(r)
FROM staging.products r
WHERE nullif(btrim(r.product_id), '') IS NULL
   OR nullif(btrim(r.product_name), '') IS NULL
   OR nullif(btrim(r.category), '') IS NULL
   OR r.price IS NULL
   OR r.cost IS NULL;
