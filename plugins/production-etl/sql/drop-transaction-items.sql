-- The lines collected by drop-transaction-items-collect.sql: those with another date's copy take
-- it (promoted); the others are withdrawn, kept in production.withdrawn_facts with this run's id,
-- then deleted.
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
