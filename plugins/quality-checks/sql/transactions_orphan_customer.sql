-- referential integrity: rows of staging.transactions whose customer_id is neither a customer_id of
-- staging.customers nor a customer present on a business date before the run's ($2), as
-- production-etl counts it. NULL or blank keys are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_orphan_customer',
       format('customer_id %s not in staging.customers nor known before %s', r.customer_id, $2::date), to_jsonb(r)
FROM staging.transactions r
WHERE nullif(btrim(r.customer_id), '') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM staging.customers p WHERE p.customer_id = r.customer_id)
  AND NOT EXISTS (SELECT 1 FROM production.customer_history h
                  WHERE h.customer_id = r.customer_id AND h.business_date < $2::date AND h.observation = 'present');
