-- validity: emails not shaped like local@domain.tld (one @, a dot in the domain, no spaces); blank ones are completeness's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', r.customer_id, 'customers_email_format', format('email %s is not shaped like local@domain.tld', r.email), to_jsonb(r)
FROM staging.customers r
WHERE nullif(btrim(r.email), '') IS NOT NULL
  AND btrim(r.email) !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$';
