-- Lines this business date owns that its input no longer holds (accepted), and every line of a
-- withdrawn transaction, whatever date it came from. A line another date's input also holds comes
-- back as that date's copy (the earliest whose transaction is still loaded); the others are
-- withdrawn: kept in production.withdrawn_facts with this run's id, then deleted.
CREATE TEMP TABLE etl_dropped_items ON COMMIT DROP AS
WITH dropped AS (
  SELECT i.item_id, 'not in the input of its business date'::text AS reason
  FROM production.transaction_items i
  CROSS JOIN etl_settings st
  WHERE i.business_date = st.run_date
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

INSERT INTO etl_total_touched
SELECT p.transaction_id FROM production.transaction_items p JOIN etl_dropped_items d ON d.item_id = p.item_id
UNION ALL
SELECT d.copy ->> 'transaction_id' FROM etl_dropped_items d WHERE d.copy_date IS NOT NULL;

UPDATE production.transaction_items p
SET transaction_id = d.copy ->> 'transaction_id',
    product_id = d.copy ->> 'product_id',
    quantity = (d.copy ->> 'quantity')::int,
    unit_price = (d.copy ->> 'unit_price')::numeric,
    discount_percentage = (d.copy ->> 'discount_percentage')::numeric,
    line_total = (d.copy ->> 'line_total')::numeric,
    business_date = d.copy_date,
    updated_at = now()
FROM etl_dropped_items d
WHERE d.copy_date IS NOT NULL AND p.item_id = d.item_id;

DELETE FROM production.fact_copies k
USING etl_dropped_items d
WHERE d.copy_date IS NOT NULL AND k.table_name = 'transaction_items' AND k.fact_id = d.item_id
  AND k.business_date = d.copy_date;

INSERT INTO production.withdrawn_facts (run_id, business_date, table_name, fact_id, reason, row_data)
SELECT st.run_id, p.business_date, 'transaction_items', p.item_id, d.reason, to_jsonb(p)
FROM production.transaction_items p
JOIN etl_dropped_items d ON d.item_id = p.item_id
CROSS JOIN etl_settings st
WHERE d.copy_date IS NULL;

DELETE FROM production.transaction_items p
USING etl_dropped_items d
WHERE d.copy_date IS NULL AND p.item_id = d.item_id;
