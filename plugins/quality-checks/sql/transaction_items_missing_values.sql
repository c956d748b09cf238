-- completeness: rows of staging.transaction_items with a mandatory field NULL or blank (whitespace only).
-- $1 run id. One quarantine row per failing row, naming every missing field. The WHERE clause
-- filters cheaply; the list of names is built only for the rows that fail.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_missing_values',
       'blank mandatory field(s): ' || concat_ws(', ',
         CASE WHEN nullif(btrim(r.item_id), '') IS NULL THEN 'item_id' END,
         CASE WHEN nullif(btrim(r.transaction_id), '') IS NULL THEN 'transaction_id' END,
         CASE WHEN nullif(btrim(r.product_id), '') IS NULL THEN 'product_id' END,
         CASE WHEN r.quantity IS NULL THEN 'quantity' END,
         CASE WHEN r.unit_price IS NULL THEN 'unit_price' END,
         CASE WHEN r.discount_percentage IS NULL THEN 'discount_percentage' END,
         CASE WHEN r.line_total IS NULL THEN 'line_total' END
       ),
       to_jsonb(r)
FROM staging.transaction_items r
WHERE nullif(btrim(r.item_id), '') IS NULL
   OR nullif(btrim(r.transaction_id), '') IS NULL
   OR nullif(btrim(r.product_id), '') IS NULL
   OR r.quantity IS NULL
   OR r.unit_price IS NULL
   OR r.discount_percentage IS NULL
   OR r.line_total IS NULL;
