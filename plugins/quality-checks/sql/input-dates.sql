-- The dates of the staged sales against the run's business date ($1) (README, "Input dates"):
-- how many have a date, the first and the last, the newest on or before the run date, and the
-- latest business date production holds before the run's.
SELECT count(transaction_date)::int AS sales,
       min(transaction_date)::text AS earliest,
       max(transaction_date)::text AS latest,
       (max(transaction_date) FILTER (WHERE transaction_date <= $1::date))::text AS newest,
       (SELECT max(business_date) FROM production.business_dates WHERE business_date < $1::date)::text AS previous
FROM staging.transactions
