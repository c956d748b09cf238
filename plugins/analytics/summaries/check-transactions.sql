-- New lines whose date, customer version or payment method differ from their transaction's
-- (the first line of it the summaries saw). Up to 20, for the error message.
SELECT DISTINCT n.transaction_id COLLATE "C" AS transaction_id, n.date_key, n.customer_key, n.payment_method_key,
       t.date_key AS seen_date_key, t.customer_key AS seen_customer_key,
       t.payment_method_key AS seen_payment_method_key
FROM analytics_new_facts n
JOIN analytics.transactions t ON t.transaction_id = n.transaction_id
WHERE (n.date_key, n.customer_key, n.payment_method_key)
      IS DISTINCT FROM (t.date_key, t.customer_key, t.payment_method_key)
ORDER BY 1, 2, 3, 4
LIMIT 20;
