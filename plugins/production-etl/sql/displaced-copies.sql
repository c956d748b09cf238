-- Facts this business date takes over from a later one (classify-*.sql, 'take_over'): the later
-- date's values, kept as that date's copy (fact-copies.sql) before they are overwritten, so that
-- they come back if this date's input drops the fact again.
CREATE TEMP TABLE etl_displaced_copies ON COMMIT DROP AS
SELECT 'transactions'::text AS table_name, p.transaction_id AS fact_id, p.business_date,
       jsonb_build_object('customer_id', p.customer_id, 'transaction_date', p.transaction_date,
                          'transaction_time', p.transaction_time, 'payment_method', p.payment_method,
                          'shipping_address', p.shipping_address, 'total_amount', p.source_total_amount) AS row_data
FROM etl_transactions e
JOIN production.transactions p ON p.transaction_id = e.transaction_id
WHERE e.reason IS NULL AND e.action = 'take_over'
UNION ALL
SELECT 'transaction_items', p.item_id, p.business_date,
       jsonb_build_object('transaction_id', p.transaction_id, 'product_id', p.product_id, 'quantity', p.quantity,
                          'unit_price', p.unit_price, 'discount_percentage', p.discount_percentage,
                          'line_total', p.line_total)
FROM etl_transaction_items e
JOIN production.transaction_items p ON p.item_id = e.item_id
WHERE e.reason IS NULL AND e.action = 'take_over';

-- The transactions whose total must follow their items again after this load
-- (reconcile-totals.sql); the statements that move items add to it.
CREATE TEMP TABLE etl_total_touched (transaction_id text NOT NULL) ON COMMIT DROP;
