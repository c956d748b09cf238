-- Cleanses staging.customers into etl_customers and decides, per staged row, a reject reason
-- (NULL = accepted) and what loading it does to production (insert/update/reactivate/unchanged).
-- Rules apply in order: row rules, then duplicate ids, then duplicate emails (see README).
-- The string functions are most of the stage's time on a daily snapshot of 100k customers, so
-- each trimmed, title-cased or lower-cased value is computed once, in one flat SELECT over the
-- staged rows (`cleansed`), and the value, the change test and the "transformations applied"
-- flags reuse it. Flat, that SELECT is evaluated by the scan itself, which PostgreSQL can split
-- between the leader and a parallel worker. The planner does not know what the string functions
-- cost, so the parallel costs are lowered for this one statement (a staging table under
-- min_parallel_table_scan_size, 8 MB by default, stays on one core; the embedded database never
-- plans in parallel). At 100k customers: 0.38-0.45 s on one core, 0.22-0.24 s on two.
-- MATERIALIZED: inlined, the cleansing expressions ran again in the change test for every row
-- that production already holds.
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
-- The leader takes part: two processes on two cores.
SET LOCAL max_parallel_workers_per_gather = 1;
CREATE TEMP TABLE etl_customers ON COMMIT DROP AS
WITH cleansed AS MATERIALIZED (
  SELECT
    s.ctid AS src,
    s.loaded_at,
    s.customer_id AS raw_customer_id, btrim(s.customer_id) AS customer_id_t,
    s.first_name AS raw_first_name, btrim(s.first_name) AS first_name_t,
    s.last_name AS raw_last_name, btrim(s.last_name) AS last_name_t,
    s.email AS raw_email, btrim(s.email) AS email_t,
    s.phone AS raw_phone,
    s.registration_date,
    s.city AS raw_city, btrim(s.city) AS city_t,
    s.state AS raw_state, btrim(s.state) AS state_t,
    s.country AS raw_country, btrim(s.country) AS country_t,
    s.age_group AS raw_age_group, btrim(s.age_group) AS age_group_t,
    -- initcap and lower keep the length, so applying NULLIF after them is the same as before.
    initcap(btrim(s.first_name)) AS first_name_c,
    initcap(btrim(s.last_name)) AS last_name_c,
    lower(btrim(s.email)) AS email_c,
    -- Digits only (a leading + kept). The usual '+1-486-486-3939' is exactly itself without its
    -- dashes (that test is cheap; not when it starts with a dash: '-+1' gives '1'). Otherwise the
    -- inner translate lists the row's non-digit characters and the outer one removes them; both
    -- measured 2-3x cheaper than regexp_replace(phone, '[^0-9]', '', 'g').
    CASE
      WHEN s.phone NOT LIKE '-%' AND replace(s.phone, '-', '') ~ '^\+?[0-9]+$' THEN replace(s.phone, '-', '')
      ELSE NULLIF(NULLIF(CASE WHEN btrim(s.phone) LIKE '+%' THEN '+' ELSE '' END
                         || translate(s.phone, translate(s.phone, '0123456789', ''), ''), ''), '+')
    END AS phone
  FROM staging.customers s
),
customers AS (
  SELECT
    t.src,
    t.loaded_at,
    NULLIF(t.customer_id_t, '') AS customer_id,
    NULLIF(t.first_name_c, '') AS first_name,
    NULLIF(t.last_name_c, '') AS last_name,
    NULLIF(t.email_c, '') AS email,
    t.phone,
    t.registration_date,
    NULLIF(t.city_t, '') AS city,
    NULLIF(t.state_t, '') AS state,
    NULLIF(t.country_t, '') AS country,
    NULLIF(t.age_group_t, '') AS age_group,
    -- What the cleansing changed, for the summary's "transformations applied".
    (t.raw_customer_id <> t.customer_id_t OR t.raw_first_name <> t.first_name_t OR t.raw_last_name <> t.last_name_t
      OR t.raw_email <> t.email_t OR t.raw_city <> t.city_t OR t.raw_state <> t.state_t
      OR t.raw_country <> t.country_t OR t.raw_age_group <> t.age_group_t) IS TRUE AS text_trimmed,
    (t.first_name_c <> t.first_name_t OR t.last_name_c <> t.last_name_t) IS TRUE AS name_title_cased,
    (t.email_c <> t.email_t) IS TRUE AS email_lower_cased,
    -- Same as "not already +digits": the normalized value equals the raw one exactly then.
    (t.raw_phone <> '' AND t.phone IS DISTINCT FROM t.raw_phone) IS TRUE AS phone_normalized,
    (btrim(t.raw_phone) = '' OR t.city_t = '' OR t.state_t = '' OR t.country_t = '' OR t.age_group_t = '') IS TRUE AS empty_to_null
  FROM cleansed t
)
SELECT
  c.*,
  CASE
    WHEN c.customer_id IS NULL OR c.first_name IS NULL OR c.last_name IS NULL OR c.email IS NULL OR c.registration_date IS NULL
      THEN 'missing_field'
    -- Infinite or outside the limits of every business date (libs/contract/business-dates.ts).
    WHEN c.registration_date < (SELECT earliest_date FROM etl_settings)
      OR c.registration_date > (SELECT latest_date FROM etl_settings) THEN 'implausible_date'
  END AS reason,
  -- What the snapshot does to the member's state as of the business date before this one
  -- (history-before.sql), not to the production row: a date loaded late is compared with the
  -- date it follows.
  CASE
    WHEN p.customer_id IS NULL THEN 'insert'
    WHEN p.observation = 'absent' THEN 'reactivate'
    WHEN (p.first_name, p.last_name, p.email, p.phone, p.registration_date, p.city, p.state, p.country, p.age_group)
      IS DISTINCT FROM (c.first_name, c.last_name, c.email, c.phone, c.registration_date, c.city, c.state, c.country, c.age_group)
      THEN 'update'
    ELSE 'unchanged'
  END AS action
FROM customers c
LEFT JOIN etl_customers_before p ON p.customer_id = c.customer_id;

SET LOCAL parallel_setup_cost TO DEFAULT;
SET LOCAL parallel_tuple_cost TO DEFAULT;
SET LOCAL max_parallel_workers_per_gather TO DEFAULT;

-- Only the columns later statements join, group or filter on: statistics on every text column
-- (a sort of each) cost more than the classification itself on a 100k-customer snapshot.
ANALYZE etl_customers (customer_id, email, reason, action);

-- Duplicate ids: the most recently loaded row wins; among rows loaded together, the first by the
-- raw row's text in byte order ("C"), which every engine sorts the same way.
UPDATE etl_customers e SET reason = 'duplicate_id'
FROM (
  SELECT d.src,
         row_number() OVER (
           PARTITION BY d.customer_id
           -- Fetched by ctid for the duplicated rows only (a join would hash the whole staging table).
           ORDER BY d.loaded_at DESC, (SELECT to_jsonb(s)::text FROM staging.customers s WHERE s.ctid = d.src) COLLATE "C"
         ) AS position
  FROM etl_customers d
  WHERE d.reason IS NULL
    AND d.customer_id IN (SELECT customer_id FROM etl_customers WHERE reason IS NULL GROUP BY customer_id HAVING count(*) > 1)
) ranked
WHERE ranked.src = e.src AND ranked.position > 1;

-- Duplicate emails (already lower-cased) among accepted rows: the customer that held the email
-- before this business date keeps it; otherwise the lowest customer_id in byte order.
UPDATE etl_customers e SET reason = 'duplicate_email'
FROM (
  SELECT d.src,
         row_number() OVER (PARTITION BY d.email ORDER BY (p.customer_id IS NOT NULL) DESC, d.customer_id COLLATE "C") AS position
  FROM etl_customers d
  LEFT JOIN etl_customers_before p ON p.customer_id = d.customer_id AND p.email = d.email
  WHERE d.reason IS NULL
    AND d.email IN (SELECT email FROM etl_customers WHERE reason IS NULL GROUP BY email HAVING count(*) > 1)
) ranked
WHERE ranked.src = e.src AND ranked.position > 1;
