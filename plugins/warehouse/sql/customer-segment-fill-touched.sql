-- As customer-segment-fill.sql, for the customers whose segment or registration date can have
-- changed since the latest run that added facts ($3, see the README, "What counts as new"): those
-- with a transaction created since, and those whose production row changed since
-- (warehouse_customer_changes, dim-customers-changes-collect.sql), among them every member this
-- run opens a version for (the versions take their segment from here).
-- Spend only moves with a customer's transactions, so with the same thresholds ($1, $2) no
-- other customer's segment differs from the one its versions hold. That includes a changed
-- customer without a new transaction (a move, a departure: thousands a day at a million
-- transactions): it keeps the segment its versions hold, read from the small dimension, instead
-- of summing all its transactions again, which are scattered over production.transactions
-- (seconds on a cold cache). Only the customers that spent, and the changed ones the warehouse
-- holds no version of yet, are summed.
WITH spent_since AS MATERIALIZED (
  SELECT DISTINCT customer_id FROM production.transactions
  WHERE greatest(created_at, updated_at) >= $3::timestamptz
)
INSERT INTO warehouse_customer_segment (customer_id, customer_segment)
SELECT c.customer_id,
       CASE WHEN s.spent IS NULL THEN 'New'
            WHEN s.spent >= $1::numeric THEN 'High Value'
            WHEN s.spent >= $2::numeric THEN 'Medium Value'
            ELSE 'Low Value' END
FROM (SELECT customer_id FROM spent_since
      UNION
      SELECT ch.customer_id FROM warehouse_customer_changes ch
      WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_customers d WHERE d.customer_id = ch.customer_id)
     ) touched
JOIN production.customers c ON c.customer_id = touched.customer_id
CROSS JOIN LATERAL (SELECT sum(t.total_amount) AS spent
                    FROM production.transactions t
                    WHERE t.customer_id = c.customer_id) s
UNION ALL
-- Type 1: every version of a member holds the same segment; the current one, or the latest.
SELECT ch.customer_id, held.customer_segment
FROM warehouse_customer_changes ch
CROSS JOIN LATERAL (SELECT d.customer_segment
                    FROM warehouse.dim_customers d
                    WHERE d.customer_id = ch.customer_id
                    ORDER BY d.is_current DESC, d.effective_date DESC
                    LIMIT 1) held
-- NOT IN, hashed: the planner expects one row from spent_since (the index's statistics end
-- before today) and, with NOT EXISTS, compared every changed customer with every spender
-- (3k x 350 a day at 1M: 72 ms). customer_id is never NULL.
WHERE ch.customer_id NOT IN (SELECT customer_id FROM spent_since)
