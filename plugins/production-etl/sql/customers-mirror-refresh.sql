-- The production row of each customer whose history this load changed (customer-history-write.sql):
-- its state on the latest business date production holds, which is what production mirrors.
-- A member present then has its values from that row; one that left keeps the values of its
-- latest 'present' row, with is_active = false and removed_at = the date it was first missing.
-- Only rows whose values differ are written, so updated_at moves on a real change only.
WITH changed AS (
  SELECT customer_id FROM etl_customers_states WHERE changed
),
latest AS (
  SELECT DISTINCT ON (h.customer_id) h.customer_id, h.observation, h.business_date
  FROM production.customer_history h
  JOIN changed USING (customer_id)
  WHERE h.observation <> 'unobserved'
  ORDER BY h.customer_id, h.business_date DESC
),
last_present AS (
  SELECT DISTINCT ON (h.customer_id) h.*
  FROM production.customer_history h
  JOIN changed USING (customer_id)
  WHERE h.observation = 'present'
  ORDER BY h.customer_id, h.business_date DESC
)
INSERT INTO production.customers AS p (customer_id, first_name, last_name, email, phone, registration_date, city, state, country, age_group, is_active, removed_at)
SELECT v.customer_id, v.first_name, v.last_name, v.email, v.phone, v.registration_date, v.city, v.state, v.country, v.age_group,
       l.observation = 'present',
       CASE WHEN l.observation = 'absent' THEN (l.business_date)::timestamp AT TIME ZONE 'UTC' END
FROM last_present v
JOIN latest l ON l.customer_id = v.customer_id
ON CONFLICT (customer_id) DO UPDATE
SET first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email, phone = excluded.phone, registration_date = excluded.registration_date, city = excluded.city, state = excluded.state, country = excluded.country, age_group = excluded.age_group,
    is_active = excluded.is_active,
    removed_at = excluded.removed_at,
    updated_at = now()
WHERE (p.first_name, p.last_name, p.email, p.phone, p.registration_date, p.city, p.state, p.country, p.age_group, p.is_active, p.removed_at)
      IS DISTINCT FROM (excluded.first_name, excluded.last_name, excluded.email, excluded.phone, excluded.registration_date, excluded.city, excluded.state, excluded.country, excluded.age_group, excluded.is_active, excluded.removed_at);

-- A member whose every 'present' row a redo removed (it was in no other date's snapshot) stays,
-- since facts may refer to it, but as one that left on this date.
UPDATE production.customers p
SET is_active = false, removed_at = st.removed_at, updated_at = now()
FROM etl_customers_states s
CROSS JOIN etl_settings st
WHERE s.changed AND p.customer_id = s.customer_id AND p.is_active
  AND NOT EXISTS (SELECT 1 FROM production.customer_history h WHERE h.customer_id = s.customer_id AND h.observation = 'present');
