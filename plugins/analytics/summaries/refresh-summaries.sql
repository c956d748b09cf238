-- Recomputes every summary row of a touched key from all of that key's facts (refresh-scope.sql
-- chose the keys), so a late line of an old transaction or a recategorised product is counted
-- exactly as a full recomputation would count it. Distinct transactions are counted per key
-- and then added up across keys by the queries: exact because a transaction's lines share one
-- date, customer version and payment method (check-transactions.sql has checked it), and a
-- product resolves to one version on one date.

DELETE FROM analytics.customer_version_sales
WHERE customer_key IN (SELECT customer_key FROM analytics_touched_customers);
INSERT INTO analytics.customer_version_sales
SELECT f.customer_key,
       min(f.date_key), max(f.date_key),
       count(DISTINCT f.transaction_id COLLATE "C"),
       sum(f.quantity), sum(f.line_total), sum(f.profit)
FROM warehouse.fact_sales f
WHERE f.customer_key IN (SELECT customer_key FROM analytics_touched_customers)
GROUP BY f.customer_key;

DELETE FROM analytics.product_version_sales
WHERE product_key IN (SELECT product_key FROM analytics_touched_products);
INSERT INTO analytics.product_version_sales
SELECT f.product_key,
       sum(f.quantity),
       count(DISTINCT f.transaction_id COLLATE "C"),
       sum(f.line_total), sum(f.profit), sum(f.discount_amount)
FROM warehouse.fact_sales f
WHERE f.product_key IN (SELECT product_key FROM analytics_touched_products)
GROUP BY f.product_key;

-- The natural ids of the touched versions (natural-ids-customers.sql and natural-ids-products.sql).
CREATE TEMP TABLE analytics_touched_customer_ids ON COMMIT DROP AS
SELECT DISTINCT customer_id FROM warehouse.dim_customers
WHERE customer_key IN (SELECT customer_key FROM analytics_touched_customers);
CREATE TEMP TABLE analytics_touched_product_ids ON COMMIT DROP AS
SELECT DISTINCT product_id FROM warehouse.dim_products
WHERE product_key IN (SELECT product_key FROM analytics_touched_products);
ANALYZE analytics_touched_customer_ids, analytics_touched_product_ids;

-- Months are yyyymm: date_key is yyyymmdd.
INSERT INTO analytics.monthly_customers (month_key, customer_id)
SELECT DISTINCT n.date_key / 100, c.customer_id
FROM analytics_new_facts n
JOIN warehouse.dim_customers c ON c.customer_key = n.customer_key
ON CONFLICT DO NOTHING;

-- Per day and payment method (rebuild-customer-summaries.sql has its own, from whole transactions).
DELETE FROM analytics.daily_payment_sales
WHERE date_key IN (SELECT date_key FROM analytics_touched_days);
INSERT INTO analytics.daily_payment_sales
SELECT f.date_key, f.payment_method_key,
       count(DISTINCT f.transaction_id COLLATE "C"), sum(f.quantity), sum(f.line_total), sum(f.profit)
FROM warehouse.fact_sales f
WHERE f.date_key IN (SELECT date_key FROM analytics_touched_days)
GROUP BY f.date_key, f.payment_method_key
ORDER BY f.date_key, f.payment_method_key;
