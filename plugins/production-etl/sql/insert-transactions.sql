-- New transactions only, owned by this business date, each carrying the sum of its new items as
-- its total (reconcile-totals.sql keeps it equal to its items' sum afterwards); one without items
-- keeps its staged total, which source_total_amount keeps in any case. No ON CONFLICT:
-- classification already left out every id present in production (speculative insertion costs
-- more per row); an id written meanwhile by someone else fails the attempt, which is then retried.
INSERT INTO production.transactions
  (transaction_id, customer_id, transaction_date, transaction_time, payment_method, shipping_address, total_amount,
   source_total_amount, business_date)
SELECT t.transaction_id, t.customer_id, t.transaction_date, t.transaction_time, t.payment_method, t.shipping_address,
       coalesce(tt.items_total, t.total_amount), t.total_amount, st.run_date
FROM etl_transactions t
CROSS JOIN etl_settings st
LEFT JOIN etl_transaction_totals tt ON tt.transaction_id = t.transaction_id
WHERE t.reason IS NULL AND t.action = 'insert'
