INSERT INTO warehouse.agg_daily_sales (date_key, total_transactions, total_revenue, total_profit, unique_customers)
SELECT date_key,
       count(DISTINCT transaction_id),
       sum(line_total),
       sum(profit),
       count(DISTINCT customer_key)
FROM warehouse.fact_sales
WHERE date_key IN (SELECT date_key FROM warehouse_new_sales)
GROUP BY date_key
