-- Type 1 attributes (overwritten on every version of the member, never a new version):
-- customer_segment moves with spend almost daily and would otherwise churn versions, and
-- registration_date is a fact about the member, not about a period of it. For the customers of
-- warehouse_customer_segment (every customer, or the touched ones), new versions included.
-- Written as an upsert of rows that exist (the member's versions, joined here), not UPDATE ... FROM:
-- on a Citus cluster the dimensions are reference tables, which an UPDATE joined to this
-- transaction's temporary tables cannot modify, while INSERT ... SELECT ... ON CONFLICT can; the
-- join makes every row a conflict, so nothing is inserted and plain PostgreSQL does the same work.
INSERT INTO warehouse.dim_customers AS t
  (customer_key, customer_id, full_name, effective_date, end_date, customer_segment, registration_date)
SELECT d.customer_key, d.customer_id, d.full_name, d.effective_date, d.end_date, s.customer_segment, c.registration_date
FROM warehouse_customer_segment s
JOIN production.customers c ON c.customer_id = s.customer_id
JOIN warehouse.dim_customers d ON d.customer_id = s.customer_id
WHERE (d.customer_segment, d.registration_date) IS DISTINCT FROM (s.customer_segment, c.registration_date)
ON CONFLICT (customer_key) DO UPDATE
SET customer_segment = excluded.customer_segment, registration_date = excluded.registration_date
