-- completeness: rows of staging.transactions with a mandatory field NULL or blank (whitespace only).
-- $1 run id. One quarantine row per failing row, naming every missing field. The WHERE clause
-- filters cheaply; the list of names is built only for the rows that fail.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_missing_values',
       'blank mandatory field(s): ' || concat_ws(', ',
         CASE WHEN nullif(btrim(r.transaction_id), '') IS NULL THEN 'transaction_id' END,
         CASE WHEN nullif(btrim(r.customer_id), '') IS NULL THEN 'customer_id' END,
         CASE WHEN r.transaction_date IS NULL THEN 'transaction_date' END,
         CASE WHEN nullif(btrim(r.payment_method), '') IS NULL THEN 'payment_method' END,
         CASE WHEN r.total_amount IS NULL THEN 'total_amount' END
       ),
       to_jsonb(r)
FROM staging.transactions r
WHERE nullif(btrim(r.transaction_id), '') IS NULL
   OR nullif(btrim(r.customer_id), '') IS NULL
   OR r.transaction_date IS NULL
   OR nullif(btrim(r.payment_method), '') IS NULL
   OR r.total_amount IS NULL;
