-- uniqueness: every row of staging.transactions whose transaction_id occurs more than once. All copies are quarantined:
-- nothing says which one is right. NULL or blank ids are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transactions', r.transaction_id, 'transactions_duplicate_id',
       format('transaction_id %s occurs %s times', r.transaction_id, d.occurrences), to_jsonb(r)
FROM staging.transactions r
JOIN (
  SELECT transaction_id, count(*) AS occurrences
  FROM staging.transactions
  WHERE nullif(btrim(transaction_id), '') IS NOT NULL
  GROUP BY transaction_id
  HAVING count(*) > 1
) d ON d.transaction_id = r.transaction_id;
