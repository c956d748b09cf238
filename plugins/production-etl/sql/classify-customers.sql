-- Cleanses staging.customers into etl_customers and decides, per staged row, a reject reason
-- (NULL = accepted) and what loading it does to production (insert/update/reactivate/unchanged).
-- Rules apply in order: row rules, then duplicate ids, then duplicate emails (see README).
-- MATERIALIZED: inlined, the cleansing expressions ran again in the change test for every row
-- that production already holds (a daily snapshot is nearly all such rows).
CREATE TEMP TABLE etl_customers ON COMMIT DROP AS
WITH cleansed AS MATERIALIZED (
  SELECT
    s.ctid AS src,
    s.loaded_at,
    NULLIF(btrim(s.customer_id), '') AS customer_id,
    initcap(NULLIF(btrim(s.first_name), '')) AS first_name,
    initcap(NULLIF(btrim(s.last_name), '')) AS last_name,
    lower(NULLIF(btrim(s.email), '')) AS email,
    NULLIF(NULLIF(CASE WHEN btrim(s.phone) LIKE '+%' THEN '+' ELSE '' END || regexp_replace(s.phone, '[^0-9]', '', 'g'), ''), '+') AS phone,
    s.registration_date,
    NULLIF(btrim(s.city), '') AS city,
    NULLIF(btrim(s.state), '') AS state,
    NULLIF(btrim(s.country), '') AS country,
    NULLIF(btrim(s.age_group), '') AS age_group,
    -- What the cleansing changed, for the summary's "transformations applied".
    (s.customer_id <> btrim(s.customer_id) OR s.first_name <> btrim(s.first_name) OR s.last_name <> btrim(s.last_name)
      OR s.email <> btrim(s.email) OR s.city <> btrim(s.city) OR s.state <> btrim(s.state)
      OR s.country <> btrim(s.country) OR s.age_group <> btrim(s.age_group)) IS TRUE AS text_trimmed,
    (initcap(btrim(s.first_name)) <> btrim(s.first_name) OR initcap(btrim(s.last_name)) <> btrim(s.last_name)) IS TRUE AS name_title_cased,
    (lower(btrim(s.email)) <> btrim(s.email)) IS TRUE AS email_lower_cased,
    (s.phone !~ '^\+?[0-9]+$' AND s.phone <> '') IS TRUE AS phone_normalized,
    (btrim(s.phone) = '' OR btrim(s.city) = '' OR btrim(s.state) = '' OR btrim(s.country) = '' OR btrim(s.age_group) = '') IS TRUE AS empty_to_null
  FROM staging.customers s
)
SELECT
  c.*,
  CASE
    WHEN c.customer_id IS NULL OR c.first_name IS NULL OR c.last_name IS NULL OR c.email IS NULL OR c.registration_date IS NULL
      THEN 'missing_field'
  END AS reason,
  CASE
    WHEN p.customer_id IS NULL THEN 'insert'
    WHEN NOT p.is_active THEN 'reactivate'
    WHEN (p.first_name, p.last_name, p.email, p.phone, p.registration_date, p.city, p.state, p.country, p.age_group)
      IS DISTINCT FROM (c.first_name, c.last_name, c.email, c.phone, c.registration_date, c.city, c.state, c.country, c.age_group)
      THEN 'update'
    ELSE 'unchanged'
  END AS action
FROM cleansed c
LEFT JOIN production.customers p ON p.customer_id = c.customer_id;

ANALYZE etl_customers;

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

-- Duplicate emails (already lower-cased) among accepted rows: the customer that holds the email
-- in production keeps it; otherwise the lowest customer_id in byte order.
UPDATE etl_customers e SET reason = 'duplicate_email'
FROM (
  SELECT d.src,
         row_number() OVER (PARTITION BY d.email ORDER BY (p.customer_id IS NOT NULL) DESC, d.customer_id COLLATE "C") AS position
  FROM etl_customers d
  LEFT JOIN production.customers p ON p.customer_id = d.customer_id AND p.email = d.email
  WHERE d.reason IS NULL
    AND d.email IN (SELECT email FROM etl_customers WHERE reason IS NULL GROUP BY email HAVING count(*) > 1)
) ranked
WHERE ranked.src = e.src AND ranked.position > 1;
