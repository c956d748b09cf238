-- The versions each dirty customer (warehouse_dirty_members) should have, derived from its
-- history by business date (production.customer_history) and nothing else, so that any order of
-- runs gives the versions an in-order load gives (README, "SCD type 2 rules"):
--   * a version starts where the member is present after being absent (or never seen), or where
--     a tracked attribute changes; it ends where the next one starts or the member is absent;
--   * the member's first version is effective from 1900-01-01, so that it covers every sale of it,
--     however old; the others from the business date of the change; the open one ends 9999-12-31;
--   * 'unobserved' rows (the date staged the member but rejected it) carry the state on.
CREATE TEMP TABLE warehouse_customers_wanted ON COMMIT DROP AS
WITH observations AS (
  SELECT h.customer_id,
         h.business_date,
         h.observation,
         h.first_name || ' ' || h.last_name AS full_name,
         h.email AS email,
         h.city AS city,
         h.state AS state,
         h.country AS country,
         h.age_group AS age_group,
         row_number() OVER w AS position,
         lag(h.observation) OVER w AS prev_observation,
         lag(h.first_name || ' ' || h.last_name) OVER w AS prev_full_name,
         lag(h.email) OVER w AS prev_email,
         lag(h.city) OVER w AS prev_city,
         lag(h.state) OVER w AS prev_state,
         lag(h.country) OVER w AS prev_country,
         lag(h.age_group) OVER w AS prev_age_group
  FROM production.customer_history h
  JOIN warehouse_dirty_members m ON m.dimension = 'customers' AND m.member_id = h.customer_id
  WHERE h.observation <> 'unobserved'
  WINDOW w AS (PARTITION BY h.customer_id ORDER BY h.business_date)
),
boundaries AS (
  SELECT o.*
  FROM observations o
  WHERE o.observation = 'absent'
     OR o.prev_observation IS DISTINCT FROM 'present'
     OR (o.full_name, o.email, o.city, o.state, o.country, o.age_group) IS DISTINCT FROM (o.prev_full_name, o.prev_email, o.prev_city, o.prev_state, o.prev_country, o.prev_age_group)
),
spans AS (
  SELECT b.*, lead(b.business_date) OVER (PARTITION BY b.customer_id ORDER BY b.business_date) AS next_boundary
  FROM boundaries b
)
SELECT customer_id,
       CASE WHEN position = 1 THEN DATE '1900-01-01' ELSE business_date END AS effective_date,
       coalesce(next_boundary, DATE '9999-12-31') AS end_date,
       next_boundary IS NULL AS is_current,
       full_name, email, city, state, country, age_group
FROM spans
WHERE observation = 'present';
ANALYZE warehouse_customers_wanted;

-- The dirty members' versions as the warehouse holds them, matched with the wanted ones by start
-- date: a match keeps its surrogate key (its end, attributes and is_current follow the wanted
-- version), a wanted version without one is opened, a held one without one is retired once no
-- fact refers to it any more (dim-retire-versions.sql).
CREATE TEMP TABLE warehouse_customers_diff ON COMMIT DROP AS
SELECT coalesce(w.customer_id, v.customer_id) AS customer_id,
       v.customer_key,
       w.effective_date IS NOT NULL AS wanted,
       v.customer_key IS NOT NULL AS held,
       v.is_current AS held_current,
       w.effective_date, w.end_date, w.is_current,
       w.full_name, w.email, w.city, w.state, w.country, w.age_group
FROM warehouse_customers_wanted w
FULL JOIN (SELECT v.*
           FROM warehouse.dim_customers v
           JOIN warehouse_dirty_members m ON m.dimension = 'customers' AND m.member_id = v.customer_id) v
  ON v.customer_id = w.customer_id AND v.effective_date = w.effective_date;
ANALYZE warehouse_customers_diff;
