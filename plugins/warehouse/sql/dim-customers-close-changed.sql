-- A tracked attribute changed ($1 = the change's effective date): the current version ends where
-- the new one (opened by dim-customers-open-versions.sql) begins.
UPDATE warehouse.dim_customers d
SET end_date   = $1::date,
    is_current = false
FROM warehouse_customer_changes c
WHERE c.customer_id = d.customer_id
  AND c.is_active
  AND d.is_current
  AND d.effective_date < $1::date
  AND (d.full_name, d.email, d.city, d.state, d.country, d.age_group)
      IS DISTINCT FROM (c.full_name, c.email, c.city, c.state, c.country, c.age_group)
