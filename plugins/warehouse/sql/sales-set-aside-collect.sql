-- Production transactions dated where dim_date cannot go ($1 .. $2, dim-date-bounds.sql):
-- -infinity, infinity, or a date such as 99999-01-01 that production-etl rejects
-- (implausible_date), so written into production another way. Their items are set aside
-- (README, "Sales set aside"): dim_date is not extended to them (a row per day up to the year
-- 99999 took minutes; an infinite date fails with "cannot subtract infinite dates"), they get no
-- fact, and the run goes on. Two range scans of the transaction_date index: a few index entries
-- when all is well.
CREATE TEMP TABLE warehouse_sales_set_aside ON COMMIT DROP AS
SELECT transaction_id, transaction_date
FROM production.transactions
WHERE transaction_date < $1::date OR transaction_date > $2::date
