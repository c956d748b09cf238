-- Segment from all-time spend in production ($1 = high value minimum, $2 = medium value minimum);
-- a customer without any transaction is 'New'.
INSERT INTO warehouse_customer_segment (customer_id, customer_segment)
SELECT c.customer_id,
       CASE WHEN s.customer_id IS NULL THEN 'New'
            WHEN s.spent >= $1::numeric THEN 'High Value'
            WHEN s.spent >= $2::numeric THEN 'Medium Value'
            ELSE 'Low Value' END
FROM production.customers c
LEFT JOIN (SELECT customer_id, sum(total_amount) AS spent
           FROM production.transactions
           GROUP BY customer_id) s ON s.customer_id = c.customer_id
