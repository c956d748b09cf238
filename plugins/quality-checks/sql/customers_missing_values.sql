-- completeness: rows of staging.customers with a mandatory field NULL or blank (whitespace only).
-- $1 run id. One quarantine row per failing row, naming every missing field. The WHERE clause
-- filters cheaply; the list of names is built only for the rows that fail.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', r.customer_id, 'customers_missing_values',
       'blank mandatory field(s): ' || concat_ws(', ',
         CASE WHEN nullif(btrim(r.customer_id), '') IS NULL THEN 'customer_id' END,
         CASE WHEN nullif(btrim(r.first_name), '') IS NULL THEN 'first_name' END,
         CASE WHEN nullif(btrim(r.last_name), '') IS NULL THEN 'last_name' END,
         CASE WHEN nullif(btrim(r.email), '') IS NULL THEN 'email' END,
         CASE WHEN r.registration_date IS NULL THEN 'registration_date' END
       ),
       to_jsonb(r)
FROM staging.customers r
WHERE nullif(btrim(r.customer_id), '') IS NULL
   OR nullif(btrim(r.first_name), '') IS NULL
   OR nullif(btrim(r.last_name), '') IS NULL
   OR nullif(btrim(r.email), '') IS NULL
   OR r.registration_date IS NULL;
