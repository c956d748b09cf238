-- Lines this business date owns that its input no longer holds (accepted), and every line of a
-- withdrawn transaction, whatever date it came from: collected before this load inserts its new
-- lines (owned by this date too), applied after (drop-transaction-items.sql). A line another
-- date's input also holds comes back as that date's copy (the earliest whose transaction is still
-- loaded); the others are withdrawn. Only a date loaded before owns anything.
-- Production's rows are read by subqueries of their own (OFFSET 0, no reference to a local row),
-- then joined with the local ones: on Citus the fact tables are distributed, and a subquery
-- correlated across the two is refused (docs/operations.md, "Beyond one machine").
CREATE TEMP TABLE etl_dropped_items ON COMMIT DROP AS
WITH owned AS (
  SELECT i.item_id
  FROM production.transaction_items i
  WHERE i.business_date = (SELECT run_date FROM etl_settings)
    AND EXISTS (SELECT 1 FROM production.business_dates d WHERE d.business_date = (SELECT run_date FROM etl_settings))
  OFFSET 0
), dropped AS (
  SELECT o.item_id, 'not in the input of its business date'::text AS reason
  FROM owned o
  WHERE NOT EXISTS (SELECT 1 FROM etl_transaction_items e WHERE e.item_id = o.item_id AND e.reason IS NULL)
  UNION
  SELECT w.item_id, 'its transaction was withdrawn'
  FROM (SELECT i.item_id
        FROM production.transaction_items i
        WHERE i.transaction_id IN (SELECT transaction_id FROM etl_dropped_transactions WHERE copy_date IS NULL)
        OFFSET 0) w
), copies AS (
  SELECT k.fact_id, k.business_date, k.row_data, k.row_data ->> 'transaction_id' AS transaction_id
  FROM production.fact_copies k
  WHERE k.table_name = 'transaction_items'
    AND k.fact_id IN (SELECT item_id FROM dropped)
    AND k.business_date <> (SELECT run_date FROM etl_settings)
    AND (k.row_data ->> 'transaction_id') NOT IN
        (SELECT transaction_id FROM etl_dropped_transactions WHERE copy_date IS NULL)
), loaded AS (
  SELECT t.transaction_id
  FROM production.transactions t
  WHERE t.transaction_id IN (SELECT transaction_id FROM copies)
  OFFSET 0
)
-- The earliest copy whose transaction is still loaded; the first reason when a line has two.
SELECT DISTINCT ON (d.item_id) d.item_id, d.reason, c.business_date AS copy_date, c.row_data AS copy
FROM dropped d
LEFT JOIN (SELECT c.* FROM copies c WHERE c.transaction_id IN (SELECT transaction_id FROM loaded)) c
       ON c.fact_id = d.item_id
ORDER BY d.item_id, d.reason, c.business_date;
ANALYZE etl_dropped_items;
