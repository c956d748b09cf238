-- Transactions this business date owns that its input no longer holds (accepted): a redo with
-- corrected files. Each one another date's input also holds comes back as that date's copy (the
-- earliest); the others are withdrawn (withdraw-transactions.sql) with their lines. Only a date
-- loaded before owns anything (business_dates): a new date does not read the facts at all.
CREATE TEMP TABLE etl_dropped_transactions ON COMMIT DROP AS
SELECT t.transaction_id, c.business_date AS copy_date, c.row_data AS copy
FROM production.transactions t
CROSS JOIN etl_settings st
LEFT JOIN LATERAL (SELECT k.business_date, k.row_data
                   FROM production.fact_copies k
                   WHERE k.table_name = 'transactions' AND k.fact_id = t.transaction_id AND k.business_date <> st.run_date
                   ORDER BY k.business_date
                   LIMIT 1) c ON true
WHERE t.business_date = st.run_date
  AND EXISTS (SELECT 1 FROM production.business_dates d WHERE d.business_date = (SELECT run_date FROM etl_settings))
  AND NOT EXISTS (SELECT 1 FROM etl_transactions e WHERE e.transaction_id = t.transaction_id AND e.reason IS NULL);
ANALYZE etl_dropped_transactions;

INSERT INTO etl_total_touched SELECT transaction_id FROM etl_dropped_transactions WHERE copy_date IS NOT NULL;

UPDATE production.transactions p
SET customer_id = d.copy ->> 'customer_id',
    transaction_date = (d.copy ->> 'transaction_date')::date,
    transaction_time = (d.copy ->> 'transaction_time')::time,
    payment_method = d.copy ->> 'payment_method',
    shipping_address = d.copy ->> 'shipping_address',
    source_total_amount = (d.copy ->> 'total_amount')::numeric,
    business_date = d.copy_date,
    updated_at = now()
FROM etl_dropped_transactions d
WHERE d.copy_date IS NOT NULL AND p.transaction_id = d.transaction_id;

DELETE FROM production.fact_copies k
USING etl_dropped_transactions d
WHERE d.copy_date IS NOT NULL AND k.table_name = 'transactions' AND k.fact_id = d.transaction_id
  AND k.business_date = d.copy_date;
