-- referential integrity: rows of staging.transaction_items whose transaction_id is not a transaction_id of staging.transactions (anti-join).
-- NULL or blank keys are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_orphan_transaction',
       format('transaction_id %s not in staging.transactions', r.transaction_id), to_jsonb(r)
FROM staging.transaction_items r
WHERE nullif(btrim(r.transaction_id), '') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.transactions p WHERE p.transaction_id = r.transaction_id);
