-- Production transactions that dim_date cannot be extended to ($3 = how many to name): dated
-- -infinity or infinity, or outside both the limits of every business date ($1 = 1900-01-01,
-- $2 = the run date + 366 days; libs/contract/business-dates.ts) and the days the calendar
-- already holds (a backfill for an earlier date still sees later days that earlier runs added).
-- dim-date-extend.sql would otherwise fail on an infinite date ("cannot subtract infinite
-- dates", naming no row) or build a row per day up to the year 99999 for minutes.
-- The bounds are scalar subqueries (one value each, known before the scan), so each end is an
-- index range scan on transaction_date: a run without such a row reads a few index entries. The
-- total is counted only when some row is out of range.
WITH out_of_range AS (
  (SELECT t.transaction_id, t.transaction_date
   FROM production.transactions t
   WHERE t.transaction_date < (SELECT least($1::date, min(full_date)) FROM warehouse.dim_date)
   ORDER BY t.transaction_date, t.transaction_id COLLATE "C"
   LIMIT $3)
  UNION ALL
  (SELECT t.transaction_id, t.transaction_date
   FROM production.transactions t
   WHERE t.transaction_date > (SELECT greatest($2::date, max(full_date)) FROM warehouse.dim_date)
   ORDER BY t.transaction_date DESC, t.transaction_id COLLATE "C"
   LIMIT $3)
)
SELECT o.transaction_id,
       o.transaction_date::text AS transaction_date,
       (SELECT count(*) FROM production.transactions t
        WHERE t.transaction_date < (SELECT least($1::date, min(full_date)) FROM warehouse.dim_date)
           OR t.transaction_date > (SELECT greatest($2::date, max(full_date)) FROM warehouse.dim_date))::int AS total
FROM out_of_range o
ORDER BY o.transaction_date, o.transaction_id COLLATE "C"
LIMIT $3
