-- The versions kept by start date whose end, current flag or tracked attributes moved (a date
-- loaded late split or joined them, or corrected what they hold).
-- Written as an upsert of rows that exist (the held versions, joined here), not UPDATE ... FROM:
-- on a Citus cluster the dimensions are reference tables, which an UPDATE joined to this
-- transaction's temporary tables cannot modify, while INSERT ... SELECT ... ON CONFLICT can; the
-- join makes every row a conflict, so nothing is inserted and plain PostgreSQL does the same work.
INSERT INTO warehouse.dim_customers AS t
  (customer_key, customer_id, effective_date, end_date, is_current, full_name, email, city, state, country, age_group)
SELECT v.customer_key, v.customer_id, v.effective_date, d.end_date, d.is_current,
       d.full_name, d.email, d.city, d.state, d.country, d.age_group
FROM warehouse_customers_diff d
JOIN warehouse.dim_customers v ON v.customer_key = d.customer_key
WHERE d.wanted AND d.held
  AND (v.end_date, v.is_current, v.full_name, v.email, v.city, v.state, v.country, v.age_group)
      IS DISTINCT FROM (d.end_date, d.is_current, d.full_name, d.email, d.city, d.state, d.country, d.age_group)
ON CONFLICT (customer_key) DO UPDATE
SET end_date = excluded.end_date, is_current = excluded.is_current,
    full_name = excluded.full_name, email = excluded.email, city = excluded.city, state = excluded.state,
    country = excluded.country, age_group = excluded.age_group
