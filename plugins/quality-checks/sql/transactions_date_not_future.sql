-- validity: transactions dated after the run date ($2), not after the clock, so a rerun of a past date judges the same.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_date_not_future', format('transaction_date %s is after the run date %s', r.transaction_date, $2::date), to_jsonb(r)
FROM staging.transactions r
WHERE r.transaction_date > $2::date;
