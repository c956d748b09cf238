-- The rest of a rebuild: every summary from every fact, in the order of its key (an index takes
-- rows in key order far faster). Each must equal what refresh-summaries.sql computes key by key;
-- the stage's tests compare the two. Transactions are counted as rows of
-- analytics_rebuild_transactions: one per transaction, as analytics.transactions' primary key
-- has just confirmed (rebuild-transactions.sql).

-- Every fact is read: a sequential scan and a sort beat walking an index in key order (twice as
-- fast at 100k transactions); reset at the end of days.sql.
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;

INSERT INTO analytics.customer_version_sales
SELECT customer_key, min(date_key), max(date_key), count(*), sum(units), sum(revenue), sum(profit)
FROM analytics_rebuild_transactions
GROUP BY customer_key
ORDER BY customer_key;

INSERT INTO analytics.daily_payment_sales
SELECT date_key, payment_method_key, count(*), sum(units), sum(revenue), sum(profit)
FROM analytics_rebuild_transactions
GROUP BY date_key, payment_method_key
ORDER BY date_key, payment_method_key;

-- Months are yyyymm: date_key is yyyymmdd.
INSERT INTO analytics.monthly_customers (month_key, customer_id)
SELECT DISTINCT t.date_key / 100, c.customer_id COLLATE "C"
FROM analytics_rebuild_transactions t
JOIN warehouse.dim_customers c ON c.customer_key = t.customer_key
ORDER BY 1, 2;

INSERT INTO analytics.product_version_sales
SELECT product_key, sum(quantity), count(DISTINCT transaction_id COLLATE "C"),
       sum(line_total), sum(profit), sum(discount_amount)
FROM warehouse.fact_sales
GROUP BY product_key
ORDER BY product_key;

-- Every member is touched (natural-ids.sql).
CREATE TEMP TABLE analytics_touched_customer_ids ON COMMIT DROP AS
SELECT DISTINCT customer_id FROM warehouse.dim_customers;
CREATE TEMP TABLE analytics_touched_product_ids ON COMMIT DROP AS
SELECT DISTINCT product_id FROM warehouse.dim_products;
ANALYZE analytics_touched_customer_ids, analytics_touched_product_ids;

-- Every day with sales is touched (days.sql; daily_payment_sales is already complete).
CREATE TEMP TABLE analytics_touched_days ON COMMIT DROP AS
SELECT DISTINCT date_key FROM analytics_rebuild_transactions;
ANALYZE analytics_touched_days;
