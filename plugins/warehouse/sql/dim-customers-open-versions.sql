-- A current version for every active member that has none: a first version (effective from
-- 1900-01-01, so that it covers every transaction of the member, however old), the successor of
-- a version closed by a change, or a member that came back to the source (effective from the
-- run date $1, or from the end of its last version if that is later, so versions never overlap).
-- Only a member changed since the latest load can be without one (dim-customers-changes-collect.sql).
WITH opened AS (
  INSERT INTO warehouse.dim_customers
    (customer_id, full_name, email, city, state, country, age_group, customer_segment, registration_date, effective_date)
  SELECT c.customer_id,
         c.full_name,
         c.email, c.city, c.state, c.country, c.age_group,
         s.customer_segment,
         c.registration_date,
         CASE WHEN h.last_end IS NULL THEN DATE '1900-01-01' ELSE greatest($1::date, h.last_end) END
  FROM warehouse_customer_changes c
  JOIN warehouse_customer_segment s ON s.customer_id = c.customer_id
  LEFT JOIN LATERAL (SELECT max(v.end_date) AS last_end
                     FROM warehouse.dim_customers v
                     WHERE v.customer_id = c.customer_id) h ON true
  WHERE c.is_active
    AND NOT EXISTS (SELECT 1 FROM warehouse.dim_customers d WHERE d.customer_id = c.customer_id AND d.is_current)
  ORDER BY c.customer_id COLLATE "C"
  RETURNING effective_date
)
SELECT count(*)::int AS opened,
       count(*) FILTER (WHERE effective_date = DATE '1900-01-01')::int AS first_versions
FROM opened
