-- The version summaries follow the new facts without reading older ones: a touched version
-- adds its new facts (sums, first and last day, and its new transactions), which equals a
-- recomputation from all its facts because each new fact here belongs to a transaction no
-- summary has counted yet, so its distinct count only grows by the new ones. On a cold cache
-- this matters: a version's older facts lie all over fact_sales (tens of seconds at a million
-- transactions). A version that a late line touches (refresh-scope.sql: a new fact of a
-- transaction counted before) is recounted from all its facts instead, exactly as a rebuild
-- counts it. Distinct transactions are counted per key and then added up across keys by the
-- queries: exact because a transaction's lines share one date, customer version and payment
-- method (check-transactions.sql has checked it), and a product resolves to one version on one
-- date.

DELETE FROM analytics.customer_version_sales
WHERE customer_key IN (SELECT customer_key FROM analytics_recount_customers);
INSERT INTO analytics.customer_version_sales
SELECT f.customer_key,
       min(f.date_key), max(f.date_key),
       count(DISTINCT f.transaction_id COLLATE "C"),
       sum(f.quantity), sum(f.line_total), sum(f.profit)
FROM warehouse.fact_sales f
WHERE f.customer_key IN (SELECT customer_key FROM analytics_recount_customers)
GROUP BY f.customer_key;

INSERT INTO analytics.customer_version_sales AS s
SELECT n.customer_key,
       min(n.date_key), max(n.date_key),
       count(DISTINCT n.transaction_id COLLATE "C"),
       sum(n.quantity), sum(n.line_total), sum(n.profit)
FROM analytics_new_facts n
WHERE NOT EXISTS (SELECT 1 FROM analytics_recount_customers r WHERE r.customer_key = n.customer_key)
GROUP BY n.customer_key
ON CONFLICT (customer_key) DO UPDATE
SET first_date_key = least(s.first_date_key, excluded.first_date_key),
    last_date_key  = greatest(s.last_date_key, excluded.last_date_key),
    transactions   = s.transactions + excluded.transactions,
    units_bought   = s.units_bought + excluded.units_bought,
    revenue        = s.revenue + excluded.revenue,
    profit         = s.profit + excluded.profit;

DELETE FROM analytics.product_version_sales
WHERE product_key IN (SELECT product_key FROM analytics_recount_products);
INSERT INTO analytics.product_version_sales
SELECT f.product_key,
       sum(f.quantity),
       count(DISTINCT f.transaction_id COLLATE "C"),
       sum(f.line_total), sum(f.profit), sum(f.discount_amount)
FROM warehouse.fact_sales f
WHERE f.product_key IN (SELECT product_key FROM analytics_recount_products)
GROUP BY f.product_key;

INSERT INTO analytics.product_version_sales AS s
SELECT n.product_key,
       sum(n.quantity),
       count(DISTINCT n.transaction_id COLLATE "C"),
       sum(n.line_total), sum(n.profit), sum(n.discount_amount)
FROM analytics_new_facts n
WHERE NOT EXISTS (SELECT 1 FROM analytics_recount_products r WHERE r.product_key = n.product_key)
GROUP BY n.product_key
ON CONFLICT (product_key) DO UPDATE
SET units_sold     = s.units_sold + excluded.units_sold,
    transactions   = s.transactions + excluded.transactions,
    revenue        = s.revenue + excluded.revenue,
    profit         = s.profit + excluded.profit,
    discount_total = s.discount_total + excluded.discount_total;

-- The natural ids of the touched versions (natural-ids-customers.sql and natural-ids-products.sql),
-- and of the versions changed facts were on (a version the warehouse retired is gone from the
-- dimension; its recount above left no summary row, and its natural id is recounted from the
-- versions left).
CREATE TEMP TABLE analytics_touched_customer_ids ON COMMIT DROP AS
SELECT customer_id FROM warehouse.dim_customers
WHERE customer_key IN (SELECT customer_key FROM analytics_touched_customers)
UNION
SELECT customer_id FROM analytics_changed_facts;
CREATE TEMP TABLE analytics_touched_product_ids ON COMMIT DROP AS
SELECT product_id FROM warehouse.dim_products
WHERE product_key IN (SELECT product_key FROM analytics_touched_products)
UNION
SELECT product_id FROM analytics_changed_facts;
ANALYZE analytics_touched_customer_ids, analytics_touched_product_ids;

-- Months are yyyymm: date_key is yyyymmdd. The months and customers changed facts were or are in
-- are counted again from the facts of every version of the customer in that month (the fact
-- table's index by customer version and date finds them); the new facts only add. The months
-- still counted are read first (OFFSET 0), not per row: on a Citus cluster fact_sales is
-- distributed, and a statement writing a coordinator table may read it only as a result.
DELETE FROM analytics.monthly_customers m
USING (SELECT DISTINCT date_key / 100 AS month_key, customer_id FROM analytics_changed_facts) c
WHERE m.month_key = c.month_key AND m.customer_id = c.customer_id
  AND NOT EXISTS (SELECT 1
                  FROM (SELECT DISTINCT f.date_key / 100 AS month_key, v.customer_id
                        FROM warehouse.dim_customers v
                        JOIN warehouse.fact_sales f ON f.customer_key = v.customer_key
                        WHERE v.customer_id IN (SELECT customer_id FROM analytics_changed_facts)
                        OFFSET 0) s
                  WHERE s.month_key = c.month_key AND s.customer_id = c.customer_id);
INSERT INTO analytics.monthly_customers (month_key, customer_id)
SELECT DISTINCT n.date_key / 100, c.customer_id
FROM (SELECT date_key, customer_key FROM analytics_new_facts
      UNION
      SELECT f.date_key, f.customer_key
      FROM analytics_changed_facts c JOIN warehouse.fact_sales f
        ON f.customer_key = c.customer_key AND f.date_key = c.date_key AND f.transaction_id = c.transaction_id) n
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
