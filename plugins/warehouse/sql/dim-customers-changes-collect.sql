-- The production customers created or changed since the latest run that added facts ($1, see the
-- README, "What counts as new"), shaped as dimension rows: the only members whose current version
-- can differ from production. production-etl moves updated_at on every real change, departure and
-- return, and the warehouse runs of that mark (or later ones) applied everything older. So the
-- SCD type 2 steps compare these rows (a few hundred a day) instead of every member (100,000 at a
-- million transactions) with its current version. With no fact yet, $1 is '-infinity': all of them.
CREATE TEMP TABLE warehouse_customer_changes ON COMMIT DROP AS
SELECT customer_id,
       first_name || ' ' || last_name AS full_name,
       email,
       city,
       state,
       country,
       age_group,
       registration_date,
       is_active
FROM production.customers
WHERE greatest(created_at, updated_at) >= $1::timestamptz
