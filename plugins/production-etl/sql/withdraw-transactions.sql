-- The dropped transactions no other date's input holds (drop-transactions-collect.sql), after
-- their lines (drop-transaction-items.sql): kept in production.withdrawn_facts, then deleted.
INSERT INTO production.withdrawn_facts (run_id, business_date, table_name, fact_id, reason, row_data)
SELECT st.run_id, p.business_date, 'transactions', p.transaction_id, 'not in the input of its business date', to_jsonb(p)
FROM production.transactions p
JOIN etl_dropped_transactions d ON d.transaction_id = p.transaction_id
CROSS JOIN etl_settings st
WHERE d.copy_date IS NULL;

DELETE FROM production.transactions p
USING etl_dropped_transactions d
WHERE d.copy_date IS NULL AND p.transaction_id = d.transaction_id;
