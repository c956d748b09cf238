-- The guard of a rebuild: one row per transaction, or a duplicate-key error naming
-- transactions_pkey when a transaction's lines disagree (rebuild-transactions.sql). In key order,
-- which an index takes far faster.
INSERT INTO analytics.transactions (transaction_id, date_key, customer_key, payment_method_key)
SELECT transaction_id, date_key, customer_key, payment_method_key
FROM analytics_rebuild_transactions
ORDER BY transaction_id;
