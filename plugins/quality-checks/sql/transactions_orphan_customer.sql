-- referential integrity: rows of staging.transactions whose customer_id is not a customer_id of staging.customers (anti-join).
-- NULL or blank keys are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_orphan_customer',
       format('customer_id %s not in staging.customers', r.customer_id), to_jsonb(r)
FROM staging.transactions r
WHERE nullif(btrim(r.customer_id), '') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.customers p WHERE p.customer_id = r.customer_id);
