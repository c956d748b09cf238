-- validity: customers registered after the run date ($2).
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', r.customer_id, 'customers_registration_not_future', format('registration_date %s is after the run date %s', r.registration_date, $2::date), to_jsonb(r)
FROM staging.customers r
WHERE r.registration_date > $2::date;
