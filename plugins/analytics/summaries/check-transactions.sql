-- New lines whose date, customer version or payment method differ from those their transaction
-- was first seen with (up to 20 transactions, for the error message).
SELECT n.transaction_id COLLATE "C" AS transaction_id,
       array_agg(DISTINCT format('(%s, %s, %s)', x.date_key, x.customer_key, x.payment_method_key)) AS combinations
FROM analytics_new_facts n
JOIN analytics.transactions t ON t.transaction_id = n.transaction_id
CROSS JOIN LATERAL (VALUES (n.date_key, n.customer_key, n.payment_method_key),
                           (t.date_key, t.customer_key, t.payment_method_key)) AS x(date_key, customer_key, payment_method_key)
WHERE (n.date_key, n.customer_key, n.payment_method_key)
      IS DISTINCT FROM (t.date_key, t.customer_key, t.payment_method_key)
GROUP BY 1
ORDER BY 1
LIMIT 20;
