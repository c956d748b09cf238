-- referential integrity: rows of staging.transaction_items whose product_id is neither a product_id
-- of staging.products nor a product present on a business date before the run's ($2): a product
-- absent from the day's file is still a valid reference, as production-etl counts it (production
-- README, "Order of runs"). NULL or blank keys are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_orphan_product',
       format('product_id %s not in staging.products nor known before %s', r.product_id, $2::date), to_jsonb(r)
FROM staging.transaction_items r
WHERE nullif(btrim(r.product_id), '') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.products p WHERE p.product_id = r.product_id)
  AND NOT EXISTS (SELECT 1 FROM production.product_history h
                  WHERE h.product_id = r.product_id AND h.business_date < $2::date AND h.observation = 'present');
