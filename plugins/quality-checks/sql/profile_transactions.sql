-- The fast pass over staging.transactions ($1 run date): row count, NULL/blank values per
-- mandatory field, and per other check of the table a number above 0 exactly when it has failing
-- rows (see profile_customers.sql). Orphans: a left join to the distinct customer ids (distinct so
-- that a duplicated customer does not count a transaction twice); total_amount is in
-- profile_transaction_sums.sql.
SELECT count(*) AS row_count,
  json_build_object(
    'transaction_id', count(*) FILTER (WHERE nullif(btrim(t.transaction_id), '') IS NULL),
    'customer_id', count(*) FILTER (WHERE nullif(btrim(t.customer_id), '') IS NULL),
    'transaction_date', count(*) FILTER (WHERE t.transaction_date IS NULL),
    'payment_method', count(*) FILTER (WHERE nullif(btrim(t.payment_method), '') IS NULL),
    'total_amount', count(*) FILTER (WHERE t.total_amount IS NULL)
  ) AS missing,
  json_build_object(
    'transactions_duplicate_id',
      (SELECT count(transaction_id) - count(DISTINCT (transaction_id COLLATE "C")) FROM staging.transactions),
    'transactions_orphan_customer',
      count(*) FILTER (WHERE nullif(btrim(t.customer_id), '') IS NOT NULL AND c.customer_id IS NULL),
    'transactions_date_not_future', count(*) FILTER (WHERE t.transaction_date > $1::date)
  ) AS failing
FROM staging.transactions t
LEFT JOIN (SELECT DISTINCT customer_id FROM staging.customers) c ON c.customer_id = t.customer_id;
