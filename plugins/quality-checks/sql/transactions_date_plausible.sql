-- validity: transactions dated outside the plausible window, [$2, $3]: quality.plausible_dates'
-- earliest day, and the run date plus its days_after_run_date. -infinity and infinity fall
-- outside too. Unlike transactions_date_not_future (a warning from the day after the run date),
-- such a date is an error: production-etl rejects it as well, and the warehouse could not
-- place it. $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_date_plausible',
       format('transaction_date %s is outside the plausible window %s..%s', r.transaction_date, $2::date, $3::date),
       to_jsonb(r)
FROM staging.transactions r
WHERE r.transaction_date < $2::date OR r.transaction_date > $3::date;
