-- The customer half of a rebuild, after rebuild-transactions.sql: the summaries that count
-- transactions, from analytics_rebuild_transactions (one row per transaction, as
-- analytics.transactions' primary key has just confirmed), in the order of their key (an index
-- takes rows in key order far faster). Each must equal what refresh-summaries.sql computes key by
-- key; the stage's tests compare the two.

-- Every fact is read: a sequential scan and a sort beat walking an index in key order (twice as
-- fast at 100k transactions). For this transaction; days.sql resets them in the product half.
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

-- Every customer is touched (natural-ids-customers.sql).
CREATE TEMP TABLE analytics_touched_customer_ids ON COMMIT DROP AS
SELECT DISTINCT customer_id FROM warehouse.dim_customers;
ANALYZE analytics_touched_customer_ids;
