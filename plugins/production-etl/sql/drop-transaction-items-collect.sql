-- Lines this business date owns that its input no longer holds (accepted), and every line of a
-- withdrawn transaction, whatever date it came from: collected before this load inserts its new
-- lines (owned by this date too), applied after (drop-transaction-items.sql). A line another
-- date's input also holds comes back as that date's copy (the earliest whose transaction is still
-- loaded); the others are withdrawn. Only a date loaded before owns anything.
CREATE TEMP TABLE etl_dropped_items ON COMMIT DROP AS
WITH dropped AS (
  SELECT i.item_id, 'not in the input of its business date'::text AS reason
  FROM production.transaction_items i
  CROSS JOIN etl_settings st
  WHERE i.business_date = st.run_date
    AND EXISTS (SELECT 1 FROM production.business_dates d WHERE d.business_date = (SELECT run_date FROM etl_settings))
    AND NOT EXISTS (SELECT 1 FROM etl_transaction_items e WHERE e.item_id = i.item_id AND e.reason IS NULL)
  UNION
  SELECT i.item_id, 'its transaction was withdrawn'
  FROM production.transaction_items i
  WHERE i.transaction_id IN (SELECT transaction_id FROM etl_dropped_transactions WHERE copy_date IS NULL)
)
SELECT DISTINCT ON (d.item_id) d.item_id, d.reason, c.business_date AS copy_date, c.row_data AS copy
FROM dropped d
CROSS JOIN etl_settings st
LEFT JOIN LATERAL (SELECT k.business_date, k.row_data
                   FROM production.fact_copies k
                   WHERE k.table_name = 'transaction_items' AND k.fact_id = d.item_id AND k.business_date <> st.run_date
                     AND EXISTS (SELECT 1 FROM production.transactions t WHERE t.transaction_id = k.row_data ->> 'transaction_id')
                     AND (k.row_data ->> 'transaction_id') NOT IN
                         (SELECT transaction_id FROM etl_dropped_transactions WHERE copy_date IS NULL)
                   ORDER BY k.business_date
                   LIMIT 1) c ON true
ORDER BY d.item_id, d.reason;
ANALYZE etl_dropped_items;
