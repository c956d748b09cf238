-- validity: customers registered outside the plausible window [$2, $3] (see
-- transactions_date_plausible.sql). $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', r.customer_id, 'customers_registration_plausible',
       format('registration_date %s is outside the plausible window %s..%s', r.registration_date, $2::date, $3::date),
       to_jsonb(r)
FROM staging.customers r
WHERE r.registration_date < $2::date OR r.registration_date > $3::date;
