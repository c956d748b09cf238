-- validity: transactions whose total_amount has more than two decimals (see
-- products_numbers_exact.sql). $1 run id.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_numbers_exact',
       'more than two decimals (production would round): total_amount ' || r.total_amount,
       to_jsonb(r)
FROM staging.transactions r
WHERE min_scale(r.total_amount) > 2;
