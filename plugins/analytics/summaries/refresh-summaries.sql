-- Recomputes every summary row of a touched key from all of that key's facts (refresh-scope.sql
-- chose the keys), so a late line of an old transaction or a recategorised product is counted
-- exactly as a full recomputation would count it. Distinct transactions are counted per key
-- and then added up across keys by the queries: exact because a transaction's lines share one
-- date, customer version and payment method (guarded by analytics.transactions), and a product
-- resolves to one version on one date.

-- Transactions: the new facts' date, customer version and payment method per transaction.
-- A transaction's lines that disagree leave a second row here, which check-transactions.sql reports.
INSERT INTO analytics.transactions (transaction_id, date_key, customer_key, payment_method_key)
SELECT DISTINCT transaction_id, date_key, customer_key, payment_method_key
FROM analytics_new_facts
ON CONFLICT (transaction_id) DO NOTHING;

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

-- The facts of the touched days, read once for the three per-day summaries.
CREATE TEMP TABLE analytics_day_facts ON COMMIT DROP AS
SELECT f.date_key, f.payment_method_key, f.transaction_id COLLATE "C" AS transaction_id, p.category,
       f.quantity, f.quantity * f.unit_price AS gross_amount, f.discount_amount, f.line_total, f.profit
FROM warehouse.fact_sales f
JOIN warehouse.dim_products p ON p.product_key = f.product_key
WHERE f.date_key IN (SELECT date_key FROM analytics_touched_days);

DELETE FROM analytics.daily_payment_sales
WHERE date_key IN (SELECT date_key FROM analytics_touched_days);
INSERT INTO analytics.daily_payment_sales
SELECT date_key, payment_method_key,
       count(DISTINCT transaction_id), sum(quantity), sum(line_total), sum(profit)
FROM analytics_day_facts
GROUP BY date_key, payment_method_key;

-- A line's discount band: its percentage, discount_amount / (quantity x unit_price), rounded to a
-- whole percent to absorb the cent rounding of discount_amount; a discounted line is never '0%'.
DELETE FROM analytics.daily_discount_band_sales
WHERE date_key IN (SELECT date_key FROM analytics_touched_days);
INSERT INTO analytics.daily_discount_band_sales
SELECT date_key, band_order,
       count(*), count(DISTINCT transaction_id), sum(quantity),
       sum(gross_amount), sum(discount_amount), sum(line_total), sum(profit)
FROM (SELECT d.*,
             CASE
               WHEN d.discount_amount = 0 OR d.gross_amount = 0 THEN 1
               WHEN round(d.discount_amount * 100 / d.gross_amount) <= 5 THEN 2
               WHEN round(d.discount_amount * 100 / d.gross_amount) <= 10 THEN 3
               WHEN round(d.discount_amount * 100 / d.gross_amount) <= 15 THEN 4
               ELSE 5
             END AS band_order
      FROM analytics_day_facts d) banded
GROUP BY date_key, band_order;

DELETE FROM analytics.daily_category_transactions
WHERE date_key IN (SELECT date_key FROM analytics_touched_days);
INSERT INTO analytics.daily_category_transactions
SELECT date_key, category, count(DISTINCT transaction_id)
FROM analytics_day_facts
GROUP BY date_key, category;

-- The category each product version is counted under from now on.
INSERT INTO analytics.product_categories (product_key, category)
SELECT p.product_key, p.category
FROM warehouse.dim_products p
LEFT JOIN analytics.product_categories c ON c.product_key = p.product_key
WHERE c.product_key IS NULL OR p.category IS DISTINCT FROM c.category
ON CONFLICT (product_key) DO UPDATE SET category = EXCLUDED.category;

-- Months are yyyymm: date_key is yyyymmdd.
INSERT INTO analytics.monthly_customers (month_key, customer_id)
SELECT DISTINCT n.date_key / 100, c.customer_id
FROM analytics_new_facts n
JOIN warehouse.dim_customers c ON c.customer_key = n.customer_key
ON CONFLICT DO NOTHING;

UPDATE analytics.summary_state
SET last_sales_key = coalesce((SELECT max(sales_key) FROM warehouse.fact_sales), 0),
    stale = false,
    refreshed_at = now();
