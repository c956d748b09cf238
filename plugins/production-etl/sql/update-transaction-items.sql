-- Corrected items and items taken over from a later date: this input's values, owned by this
-- date. The totals of the transactions they leave and join follow (reconcile-totals.sql).
INSERT INTO etl_total_touched
SELECT p.transaction_id
FROM etl_transaction_items e
JOIN production.transaction_items p ON p.item_id = e.item_id
WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over')
UNION ALL
SELECT e.transaction_id FROM etl_transaction_items e WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over');

-- Deleted and inserted again rather than updated (created_at kept: the same line, corrected): a
-- line may move to another transaction, and on Citus the lines are distributed by transaction_id,
-- which an UPDATE cannot change (docs/operations.md, "Beyond one machine").
WITH replaced AS (
  DELETE FROM production.transaction_items p
  USING (SELECT item_id FROM etl_transaction_items
         WHERE reason IS NULL AND action IN ('correct', 'take_over') OFFSET 0) e
  WHERE p.item_id = e.item_id
  RETURNING p.item_id, p.created_at
)
INSERT INTO production.transaction_items
  (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total,
   business_date, created_at, updated_at)
SELECT e.item_id, e.transaction_id, e.product_id, e.quantity, e.unit_price, e.discount_percentage, e.line_total,
       st.run_date, r.created_at, now()
FROM replaced r
JOIN etl_transaction_items e ON e.item_id = r.item_id AND e.reason IS NULL AND e.action IN ('correct', 'take_over')
CROSS JOIN etl_settings st;

-- New lines of transactions that were already loaded: their totals follow too. The new lines
-- per transaction are summed already (etl_transaction_totals); those not of a new transaction.
INSERT INTO etl_total_touched
SELECT tt.transaction_id
FROM etl_transaction_totals tt
WHERE NOT EXISTS (SELECT 1 FROM etl_transactions t
                  WHERE t.transaction_id = tt.transaction_id AND t.reason IS NULL AND t.action = 'insert');
