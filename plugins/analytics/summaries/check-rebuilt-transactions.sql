-- Transactions whose lines disagree on date, customer version or payment method (up to 20).
SELECT transaction_id,
       array_agg(format('(%s, %s, %s)', date_key, customer_key, payment_method_key)
                 ORDER BY date_key, customer_key, payment_method_key) AS combinations
FROM analytics_rebuild_transactions
GROUP BY transaction_id
HAVING count(*) > 1
ORDER BY transaction_id
LIMIT 20;
