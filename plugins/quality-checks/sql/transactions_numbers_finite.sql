-- validity: transactions whose total_amount is NaN, Infinity, -Infinity or 10^10 and more (see
-- products_numbers_finite.sql). $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_numbers_finite',
       'not a finite number below 10^10: total_amount ' || r.total_amount,
       to_jsonb(r)
FROM staging.transactions r
WHERE abs(r.total_amount) >= 1e10;
