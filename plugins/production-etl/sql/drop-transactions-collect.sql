-- Transactions this business date owns that its input no longer holds (accepted): a redo with
-- corrected files. Each one another date's input also holds comes back as that date's copy (the
-- earliest); the others are withdrawn (withdraw-transactions.sql) with their lines. Only a date
-- loaded before owns anything (business_dates): a new date does not read the facts at all.
-- This date's transactions are read from production on their own first (the OFFSET 0 subquery), then
-- compared with the local rows: on Citus production.transactions is distributed, and a subquery
-- correlated with a distributed row is refused (docs/operations.md, "Beyond one machine").
CREATE TEMP TABLE etl_dropped_transactions ON COMMIT DROP AS
SELECT t.transaction_id, c.business_date AS copy_date, c.row_data AS copy
FROM (SELECT p.transaction_id
      FROM production.transactions p
      WHERE p.business_date = (SELECT run_date FROM etl_settings)
        AND EXISTS (SELECT 1 FROM production.business_dates d WHERE d.business_date = (SELECT run_date FROM etl_settings))
      OFFSET 0) t
CROSS JOIN etl_settings st
LEFT JOIN LATERAL (SELECT k.business_date, k.row_data
                   FROM production.fact_copies k
                   WHERE k.table_name = 'transactions' AND k.fact_id = t.transaction_id AND k.business_date <> st.run_date
                   ORDER BY k.business_date
                   LIMIT 1) c ON true
WHERE NOT EXISTS (SELECT 1 FROM etl_transactions e WHERE e.transaction_id = t.transaction_id AND e.reason IS NULL);
ANALYZE etl_dropped_transactions;

INSERT INTO etl_total_touched SELECT transaction_id FROM etl_dropped_transactions WHERE copy_date IS NOT NULL;

-- The copy's values are cast in a subquery of their own: on Citus the UPDATE runs on the workers,
-- which refuse a stable function (a date or time read from text) of a row's columns.
UPDATE production.transactions p
SET customer_id = d.customer_id,
    transaction_date = d.transaction_date,
    transaction_time = d.transaction_time,
    payment_method = d.payment_method,
    shipping_address = d.shipping_address,
    source_total_amount = d.source_total_amount,
    business_date = d.copy_date,
    updated_at = now()
FROM (SELECT transaction_id, copy_date,
             copy ->> 'customer_id' AS customer_id,
             (copy ->> 'transaction_date')::date AS transaction_date,
             (copy ->> 'transaction_time')::time AS transaction_time,
             copy ->> 'payment_method' AS payment_method,
             copy ->> 'shipping_address' AS shipping_address,
             (copy ->> 'total_amount')::numeric AS source_total_amount
      FROM etl_dropped_transactions
      WHERE copy_date IS NOT NULL
      OFFSET 0) d
WHERE p.transaction_id = d.transaction_id;

DELETE FROM production.fact_copies k
USING etl_dropped_transactions d
WHERE d.copy_date IS NOT NULL AND k.table_name = 'transactions' AND k.fact_id = d.transaction_id
  AND k.business_date = d.copy_date;
