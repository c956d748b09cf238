-- Type 1 attributes (overwritten on every version of the member, never a new version):
-- customer_segment moves with spend almost daily and would otherwise churn versions, and
-- registration_date is a fact about the member, not about a period of it. For the customers of
-- warehouse_customer_segment (every customer, or the touched ones), new versions included.
UPDATE warehouse.dim_customers d
SET customer_segment  = s.customer_segment,
    registration_date = c.registration_date
FROM warehouse_customer_segment s
JOIN production.customers c ON c.customer_id = s.customer_id
WHERE d.customer_id = s.customer_id
  AND (d.customer_segment, d.registration_date) IS DISTINCT FROM (s.customer_segment, c.registration_date)
