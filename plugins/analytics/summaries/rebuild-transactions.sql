-- First step of a rebuild's customer half (after reset.sql): it empties the half's own summaries
-- (so that it can run beside the product half in a transaction of its own), then reads every
-- fact into one row per transaction and the date, customer version and payment method its lines
-- carry. A transaction whose lines disagree has more than one row here, and then breaks
-- analytics.transactions' primary key (record-transactions.sql): the stage rolls back to before
-- that insert and names such transactions (check-rebuilt-transactions.sql).
TRUNCATE analytics.transactions, analytics.customer_version_sales, analytics.customer_sales,
         analytics.daily_payment_sales, analytics.monthly_customers;
CREATE TEMP TABLE analytics_rebuild_transactions ON COMMIT DROP AS
SELECT transaction_id COLLATE "C" AS transaction_id, date_key, customer_key, payment_method_key,
       sum(quantity)   AS units,
       sum(line_total) AS revenue,
       sum(profit)     AS profit
FROM warehouse.fact_sales
GROUP BY 1, 2, 3, 4;
