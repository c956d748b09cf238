-- Only rows whose values differ (or that come back after being removed) are touched, so
-- updated_at moves on a real change only.
UPDATE production.customers p
SET first_name = c.first_name,
    last_name = c.last_name,
    email = c.email,
    phone = c.phone,
    registration_date = c.registration_date,
    city = c.city,
    state = c.state,
    country = c.country,
    age_group = c.age_group,
    is_active = true,
    removed_at = NULL,
    updated_at = now()
FROM etl_customers c
WHERE c.reason IS NULL AND c.action IN ('update', 'reactivate') AND p.customer_id = c.customer_id
