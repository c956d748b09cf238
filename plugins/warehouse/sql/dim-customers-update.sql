-- The versions kept by start date whose end, current flag or tracked attributes moved (a date
-- loaded late split or joined them, or corrected what they hold).
UPDATE warehouse.dim_customers v
SET end_date = d.end_date,
    is_current = d.is_current,
    full_name = d.full_name, email = d.email, city = d.city, state = d.state, country = d.country, age_group = d.age_group
FROM warehouse_customers_diff d
WHERE d.wanted AND d.held AND v.customer_key = d.customer_key
  AND (v.end_date, v.is_current, v.full_name, v.email, v.city, v.state, v.country, v.age_group)
      IS DISTINCT FROM (d.end_date, d.is_current, d.full_name, d.email, d.city, d.state, d.country, d.age_group)
