-- The wanted versions of dirty customers that no held version matches (dim-customers-derive.sql).
-- Their segment comes with the type 1 attributes (dim-customers-type1.sql), later in the run.
WITH opened AS (
  INSERT INTO warehouse.dim_customers (customer_id, full_name, email, city, state, country, age_group, registration_date, effective_date, end_date, is_current)
  SELECT d.customer_id, d.full_name, d.email, d.city, d.state, d.country, d.age_group, c.registration_date, d.effective_date, d.end_date, d.is_current
  FROM warehouse_customers_diff d
  JOIN production.customers c ON c.customer_id = d.customer_id
  WHERE d.wanted AND NOT d.held
  -- Surrogate keys in natural-id and date order, so they do not depend on the plan or the locale.
  ORDER BY d.customer_id COLLATE "C", d.effective_date
  RETURNING effective_date
)
SELECT count(*)::int AS opened,
       count(*) FILTER (WHERE effective_date = DATE '1900-01-01')::int AS first_versions
FROM opened
