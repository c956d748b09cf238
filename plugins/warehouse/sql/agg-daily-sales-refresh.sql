-- The days the facts' changes touched (as they are now and as they were), recomputed from their
-- facts: a day's distinct transactions and customers cannot be added to.
DELETE FROM warehouse.agg_daily_sales
WHERE date_key IN (SELECT date_key FROM warehouse_fact_delta);

INSERT INTO warehouse.agg_daily_sales (date_key, total_transactions, total_revenue, total_profit, unique_customers)
SELECT date_key,
       count(DISTINCT transaction_id),
       sum(line_total),
       sum(profit),
       count(DISTINCT customer_key)
FROM warehouse.fact_sales
WHERE date_key IN (SELECT date_key FROM warehouse_fact_delta)
GROUP BY date_key;
