-- referential integrity: rows of staging.transaction_items whose product_id is not a product_id of staging.products (anti-join).
-- NULL or blank keys are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_orphan_product',
       format('product_id %s not in staging.products', r.product_id), to_jsonb(r)
FROM staging.transaction_items r
WHERE nullif(btrim(r.product_id), '') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.products p WHERE p.product_id = r.product_id);
