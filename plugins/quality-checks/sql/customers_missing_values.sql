-- completeness: rows of staging.customers with a mandatory field NULL or blank (whitespace only).
-- $1 run id. One quarantine row per failing row, naming every missing field.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', r.customer_id, 'customers_missing_values',
       'blank mandatory field(s): ' || array_to_string(m.missing, ', '), to_jsonb(r)
FROM staging.customers r
CROSS JOIN LATERAL (
  SELECT array_remove(ARRAY[
      CASE WHEN nullif(btrim(r.customer_id), '') IS NULL THEN 'customer_id' END,
      CASE WHEN nullif(btrim(r.first_name), '') IS NULL THEN 'first_name' END,
      CASE WHEN nullif(btrim(r.last_name), '') IS NULL THEN 'last_name' END,
      CASE WHEN nullif(btrim(r.email), '') IS NULL THEN 'email' END,
      CASE WHEN r.registration_date IS NULL THEN 'registration_date' END
  ], NULL) AS missing
) m
WHERE cardinality(m.missing) > 0;
