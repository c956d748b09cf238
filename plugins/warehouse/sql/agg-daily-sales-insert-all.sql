-- First load: every day from the facts (agg-daily-sales-insert.sql without the filter on touched
-- days: on a first load every day is touched). Grouping per transaction first, as
-- agg-customer-metrics-insert-all.sql does, measured slower here: days are few and large.
INSERT INTO warehouse.agg_daily_sales (date_key, total_transactions, total_revenue, total_profit, unique_customers)
SELECT date_key,
       count(DISTINCT transaction_id),
       sum(line_total),
       sum(profit),
       count(DISTINCT customer_key)
FROM warehouse.fact_sales
GROUP BY date_key
