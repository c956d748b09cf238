-- As customer-segment-fill.sql, for the customers whose segment or registration date can have
-- changed since the latest run ($3 = its start, README "What counts as new"): those whose
-- transactions were created, changed or withdrawn since, those whose facts this run moved away
-- (warehouse_fact_delta), and the dirty customers (warehouse_dirty_members), whose versions
-- this run derived again.
-- Spend only moves with a customer's transactions, so with the same thresholds ($1, $2) no
-- other customer's segment differs from the one its versions hold. That includes a dirty
-- customer without a transaction change (a move, a departure: thousands a day at a million
-- transactions): it keeps the segment its versions hold, read from the small dimension, instead
-- of summing all its transactions again, which are scattered over production.transactions
-- (seconds on a cold cache). Only the customers that spent, and the dirty ones the warehouse
-- holds no segment of yet, are summed.
WITH spent_since AS MATERIALIZED (
  SELECT customer_id FROM production.transactions
  WHERE (created_at >= $3::timestamptz OR (updated_at > created_at AND updated_at >= $3::timestamptz))
  UNION
  SELECT w.row_data ->> 'customer_id' FROM production.withdrawn_facts w
  WHERE w.table_name = 'transactions' AND w.withdrawn_at >= $3::timestamptz
  UNION
  SELECT c.customer_id FROM warehouse_fact_delta d JOIN warehouse.dim_customers c ON c.customer_key = d.customer_key
),
held AS (
  SELECT m.member_id AS customer_id,
         (SELECT d.customer_segment FROM warehouse.dim_customers d
          WHERE d.customer_id = m.member_id AND d.customer_segment IS NOT NULL
          ORDER BY d.is_current DESC, d.effective_date DESC
          LIMIT 1) AS customer_segment
  FROM warehouse_dirty_members m
  WHERE m.dimension = 'customers'
    -- NOT IN, hashed: the planner expects one row from spent_since (the index's statistics end
    -- before today) and, with NOT EXISTS, compared every dirty customer with every spender.
    -- customer_id is never NULL.
    AND m.member_id NOT IN (SELECT customer_id FROM spent_since)
),
touched AS MATERIALIZED (
  SELECT customer_id FROM spent_since
  UNION
  SELECT customer_id FROM held WHERE customer_segment IS NULL
),
-- The spend of the touched customers, read by a subquery of its own (an index lookup per customer
-- here too): on Citus production.transactions is distributed, and a sum correlated with a local
-- row is refused (docs/operations.md, "Beyond one machine").
spend AS (
  SELECT t.customer_id, sum(t.total_amount) AS spent
  FROM production.transactions t
  WHERE t.customer_id IN (SELECT customer_id FROM touched)
  GROUP BY t.customer_id
  OFFSET 0
)
INSERT INTO warehouse_customer_segment (customer_id, customer_segment)
SELECT c.customer_id,
       CASE WHEN s.spent IS NULL THEN 'New'
            WHEN s.spent >= $1::numeric THEN 'High Value'
            WHEN s.spent >= $2::numeric THEN 'Medium Value'
            ELSE 'Low Value' END
FROM touched
JOIN production.customers c ON c.customer_id = touched.customer_id
LEFT JOIN spend s ON s.customer_id = c.customer_id
UNION ALL
-- Type 1: every version of a member holds the same segment; the one its versions hold.
SELECT customer_id, customer_segment FROM held WHERE customer_segment IS NOT NULL
