-- Corrected transactions (this date's input changed them) and transactions taken over from a
-- later date: this input's values, owned by this date from now on.
INSERT INTO etl_total_touched
SELECT e.transaction_id FROM etl_transactions e WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over');

UPDATE production.transactions p
SET customer_id = e.customer_id,
    transaction_date = e.transaction_date,
    transaction_time = e.transaction_time,
    payment_method = e.payment_method,
    shipping_address = e.shipping_address,
    source_total_amount = e.total_amount,
    business_date = st.run_date,
    updated_at = now()
FROM etl_transactions e
CROSS JOIN etl_settings st
WHERE e.reason IS NULL AND e.action IN ('correct', 'take_over') AND p.transaction_id = e.transaction_id;
