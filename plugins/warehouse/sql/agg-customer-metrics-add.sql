-- Every other customer version the facts this run inserted touch (warehouse_new_sales, by
-- item_id: the grain) adds them to its row, without reading its older facts: they lie all over
-- fact_sales, and a cold cache made re-reading them seconds. All lines of these facts'
-- transactions are new here, so their distinct transactions add up with the ones counted before;
-- the average is derived from the totals, as a fresh GROUP BY derives it.
INSERT INTO warehouse.agg_customer_metrics AS a
  (customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date)
SELECT f.customer_key,
       count(DISTINCT f.transaction_id),
       sum(f.line_total),
       round(sum(f.line_total) / count(DISTINCT f.transaction_id), 2),
       max(d.full_date)
FROM warehouse.fact_sales f
JOIN warehouse.dim_date d ON d.date_key = f.date_key
WHERE f.item_id IN (SELECT item_id FROM warehouse_new_sales)
  AND NOT EXISTS (SELECT 1 FROM warehouse_recount_customers r WHERE r.customer_key = f.customer_key)
GROUP BY f.customer_key
ON CONFLICT (customer_key) DO UPDATE
SET total_transactions = a.total_transactions + excluded.total_transactions,
    total_spent        = a.total_spent + excluded.total_spent,
    avg_order_value    = round((a.total_spent + excluded.total_spent)
                               / (a.total_transactions + excluded.total_transactions), 2),
    last_purchase_date = greatest(a.last_purchase_date, excluded.last_purchase_date)
