-- The lines collected by drop-transaction-items-collect.sql: those with another date's copy take
-- it (promoted); the others are withdrawn, kept in production.withdrawn_facts with this run's id,
-- then deleted.
INSERT INTO etl_total_touched
SELECT p.transaction_id FROM production.transaction_items p JOIN etl_dropped_items d ON d.item_id = p.item_id
UNION ALL
SELECT d.copy ->> 'transaction_id' FROM etl_dropped_items d WHERE d.copy_date IS NOT NULL;

-- Deleted and inserted again rather than updated, as in update-transaction-items.sql (a copy may
-- belong to another transaction).
WITH promoted AS (
  DELETE FROM production.transaction_items p
  USING (SELECT item_id FROM etl_dropped_items WHERE copy_date IS NOT NULL OFFSET 0) d
  WHERE p.item_id = d.item_id
  RETURNING p.item_id, p.created_at
)
INSERT INTO production.transaction_items
  (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total,
   business_date, created_at, updated_at)
SELECT d.item_id, d.copy ->> 'transaction_id', d.copy ->> 'product_id', (d.copy ->> 'quantity')::int,
       (d.copy ->> 'unit_price')::numeric, (d.copy ->> 'discount_percentage')::numeric,
       (d.copy ->> 'line_total')::numeric, d.copy_date, r.created_at, now()
FROM promoted r
JOIN etl_dropped_items d ON d.item_id = r.item_id AND d.copy_date IS NOT NULL;

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
