-- The sales set aside are this run's: those corrected since (or gone from production) leave the
-- list, new ones join it, and those still there keep the time they were first set aside.
DELETE FROM warehouse.sales_set_aside s
WHERE NOT EXISTS (SELECT 1 FROM warehouse_sales_set_aside a WHERE a.transaction_id = s.transaction_id);
INSERT INTO warehouse.sales_set_aside (transaction_id, transaction_date)
SELECT transaction_id, transaction_date FROM warehouse_sales_set_aside
ON CONFLICT (transaction_id) DO UPDATE SET transaction_date = excluded.transaction_date;
