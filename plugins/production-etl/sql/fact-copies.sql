-- The facts this business date's input holds that an earlier date owns (classify-*.sql: 'present'
-- or 'ignored_change' with an earlier owner): kept as this date's copies, so that the fact comes
-- back with these values if the owner's input drops it. A redo of this date replaces them. With
-- them, the copies of later dates whose facts this date took over (displaced-copies.sql).
DELETE FROM production.fact_copies k USING etl_settings st WHERE k.business_date = st.run_date;

INSERT INTO production.fact_copies (table_name, fact_id, business_date, row_data)
SELECT 'transactions', e.transaction_id, st.run_date,
       jsonb_build_object('customer_id', e.customer_id, 'transaction_date', e.transaction_date,
                          'transaction_time', e.transaction_time, 'payment_method', e.payment_method,
                          'shipping_address', e.shipping_address, 'total_amount', e.total_amount)
FROM etl_transactions e
CROSS JOIN etl_settings st
WHERE e.reason IS NULL AND e.action IN ('present', 'ignored_change') AND e.owner_date < st.run_date
UNION ALL
SELECT 'transaction_items', e.item_id, st.run_date,
       jsonb_build_object('transaction_id', e.transaction_id, 'product_id', e.product_id, 'quantity', e.quantity,
                          'unit_price', e.unit_price, 'discount_percentage', e.discount_percentage,
                          'line_total', e.line_total)
FROM etl_transaction_items e
CROSS JOIN etl_settings st
WHERE e.reason IS NULL AND e.action IN ('present', 'ignored_change') AND e.owner_date < st.run_date
UNION ALL
SELECT table_name, fact_id, business_date, row_data FROM etl_displaced_copies
ON CONFLICT (table_name, fact_id, business_date) DO UPDATE SET row_data = excluded.row_data;
