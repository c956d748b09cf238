-- Late-arriving change ($1 = the change's effective date, the run date): when it is effective on
-- or before the start of the current version, a new version would have zero or negative length,
-- so the change corrects the current version's tracked attributes in place instead.
-- Only members changed since the latest load can differ (dim-customers-changes-collect.sql).
UPDATE warehouse.dim_customers d
SET full_name = c.full_name,
    email     = c.email,
    city      = c.city,
    state     = c.state,
    country   = c.country,
    age_group = c.age_group
FROM warehouse_customer_changes c
WHERE c.customer_id = d.customer_id
  AND c.is_active
  AND d.is_current
  AND d.effective_date >= $1::date
  AND (d.full_name, d.email, d.city, d.state, d.country, d.age_group)
      IS DISTINCT FROM (c.full_name, c.email, c.city, c.state, c.country, c.age_group)
