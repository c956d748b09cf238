-- Corrected items and items taken over from a later date: this input's values, owned by this
-- date. The totals of the transactions they leave and join follow (reconcile-totals.sql).
INSERT INTO etl_total_touched
SELECT p.transaction_id
FROM etl_transaction_items e
JOIN production.transaction_items p ON p.item_id = e.item_id
WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over')
UNION ALL
SELECT e.transaction_id FROM etl_transaction_items e WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over');

UPDATE production.transaction_items p
SET transaction_id = e.transaction_id,
    product_id = e.product_id,
    quantity = e.quantity,
    unit_price = e.unit_price,
    discount_percentage = e.discount_percentage,
    line_total = e.line_total,
    business_date = st.run_date,
    updated_at = now()
FROM etl_transaction_items e
CROSS JOIN etl_settings st
WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over') AND p.item_id = e.item_id;

-- New lines of transactions that were already loaded: their totals follow too. The new lines
-- per transaction are summed already (etl_transaction_totals); those not of a new transaction.
INSERT INTO etl_total_touched
SELECT tt.transaction_id
FROM etl_transaction_totals tt
WHERE NOT EXISTS (SELECT 1 FROM etl_transactions t
                  WHERE t.transaction_id = tt.transaction_id AND t.reason IS NULL AND t.action = 'insert');
