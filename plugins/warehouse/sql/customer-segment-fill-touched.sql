-- As customer-segment-fill.sql, for the customers whose segment or registration date can have
-- changed since the latest run that added facts ($3, see the README, "What counts as new"): those
-- with a transaction created since, and those whose production row changed since
-- (warehouse_customer_changes, dim-customers-changes-collect.sql), among them every member this
-- run opens a version for (the versions take their segment from here).
-- Spend only moves with a customer's transactions, so with the same thresholds ($1, $2) no
-- other customer's segment differs from the one its versions hold.
INSERT INTO warehouse_customer_segment (customer_id, customer_segment)
SELECT c.customer_id,
       CASE WHEN s.spent IS NULL THEN 'New'
            WHEN s.spent >= $1::numeric THEN 'High Value'
            WHEN s.spent >= $2::numeric THEN 'Medium Value'
            ELSE 'Low Value' END
FROM (SELECT customer_id FROM production.transactions
      WHERE greatest(created_at, updated_at) >= $3::timestamptz
      UNION
      SELECT customer_id FROM warehouse_customer_changes
     ) touched
JOIN production.customers c ON c.customer_id = touched.customer_id
CROSS JOIN LATERAL (SELECT sum(t.total_amount) AS spent
                    FROM production.transactions t
                    WHERE t.customer_id = c.customer_id) s
