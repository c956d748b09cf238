-- The customer versions the facts' changes touched. A version whose only changes are new lines
-- of new transactions (warehouse_fact_delta.transaction_is_new) adds them to its row without
-- reading its older facts: they lie all over fact_sales, and a cold cache made re-reading them
-- seconds. Their transactions are counted nowhere yet, so the distinct counts add up; the
-- average is derived from the totals, as a fresh GROUP BY derives it. Every other touched version
-- (a late line of an older transaction, a fact moved to or from it, corrected or removed) is
-- recounted from all its facts. Usually none.
CREATE TEMP TABLE warehouse_recount_customers ON COMMIT DROP AS
SELECT DISTINCT customer_key FROM warehouse_fact_delta WHERE NOT transaction_is_new;
ANALYZE warehouse_recount_customers;

DELETE FROM warehouse.agg_customer_metrics
WHERE customer_key IN (SELECT customer_key FROM warehouse_recount_customers);

INSERT INTO warehouse.agg_customer_metrics (customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date)
SELECT f.customer_key,
       count(DISTINCT f.transaction_id),
       sum(f.line_total),
       round(sum(f.line_total) / count(DISTINCT f.transaction_id), 2),
       max(d.full_date)
FROM warehouse.fact_sales f
JOIN warehouse.dim_date d ON d.date_key = f.date_key
WHERE f.customer_key IN (SELECT customer_key FROM warehouse_recount_customers)
GROUP BY f.customer_key;

INSERT INTO warehouse.agg_customer_metrics AS a
  (customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date)
SELECT n.customer_key,
       count(DISTINCT n.transaction_id),
       sum(n.line_total),
       round(sum(n.line_total) / count(DISTINCT n.transaction_id), 2),
       max(d.full_date)
FROM warehouse_fact_delta n
JOIN warehouse.dim_date d ON d.date_key = n.date_key
WHERE n.transaction_is_new
  AND NOT EXISTS (SELECT 1 FROM warehouse_recount_customers r WHERE r.customer_key = n.customer_key)
GROUP BY n.customer_key
ON CONFLICT (customer_key) DO UPDATE
SET total_transactions = a.total_transactions + excluded.total_transactions,
    total_spent        = a.total_spent + excluded.total_spent,
    avg_order_value    = round((a.total_spent + excluded.total_spent)
                               / (a.total_transactions + excluded.total_transactions), 2),
    last_purchase_date = greatest(a.last_purchase_date, excluded.last_purchase_date);
