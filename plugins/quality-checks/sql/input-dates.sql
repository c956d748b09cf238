-- The newest transaction date of the staged input, and the latest business date production
-- already holds before the run's ($1): input for a date must hold a transaction after that date,
-- or it is an earlier date's files loaded again (README, "Input dates").
SELECT (SELECT max(transaction_date) FROM staging.transactions)::text AS newest,
       (SELECT max(business_date) FROM production.business_dates WHERE business_date < $1::date)::text AS previous
