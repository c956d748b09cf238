-- Transactions dated the run date ($1) against the daily counts of the $2 days before it.
-- A baseline day without transactions counts as 0, but days before the first transaction ever
-- are not history (the data did not exist yet), so young data shows as too little history.
WITH baseline_days AS (
  SELECT g::date AS day
  FROM generate_series(($1::date - $2::int)::timestamp, ($1::date - 1)::timestamp, interval '1 day') g
  WHERE g::date >= (SELECT min(transaction_date) FROM production.transactions)
),
daily_counts AS (
  SELECT transaction_date AS day, count(*) AS transactions
  FROM production.transactions
  WHERE transaction_date BETWEEN $1::date - $2::int AND $1::date
  GROUP BY transaction_date
)
SELECT (SELECT coalesce(sum(transactions), 0) FROM daily_counts WHERE day = $1::date)::bigint::text AS run_date_transactions,
       count(b.day)::int                                                  AS history_days,
       round(avg(coalesce(c.transactions, 0)), 4)::text                   AS mean,
       round(stddev_samp(coalesce(c.transactions, 0)), 4)::text           AS stddev,
       min(coalesce(c.transactions, 0))::text                             AS min,
       max(coalesce(c.transactions, 0))::text                             AS max
FROM baseline_days b
LEFT JOIN daily_counts c ON c.day = b.day;
