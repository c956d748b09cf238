-- First load: every customer version from the facts. One row per (customer version, transaction)
-- first, by hashing, so the distinct transactions of a customer are its rows there (yyyymmdd
-- keys order as their dates do, so the latest key is the latest date).
INSERT INTO warehouse.agg_customer_metrics (customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date)
SELECT customer_key,
       count(*),
       sum(spent),
       round(sum(spent) / count(*), 2),
       max(d.full_date)
FROM (SELECT customer_key, transaction_id, sum(line_total) AS spent, max(date_key) AS date_key
      FROM warehouse.fact_sales
      GROUP BY customer_key, transaction_id) per_transaction
JOIN warehouse.dim_date d ON d.date_key = per_transaction.date_key
GROUP BY customer_key
