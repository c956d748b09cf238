-- The product half of a rebuild: the product and per-day summaries, each read from every fact in
-- the order of its key. It empties its own summaries first (reset.sql leaves them to it, so that
-- it can run beside the customer half in a transaction of its own). Each must equal what
-- refresh-summaries.sql and days.sql compute key by key; the stage's tests compare the two.
TRUNCATE analytics.product_version_sales, analytics.product_sales,
         analytics.daily_discount_band_sales, analytics.daily_category_transactions;

-- Every fact is read: a sequential scan and a sort beat walking an index in key order (twice as
-- fast at 100k transactions); reset at the end of days.sql.
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;

INSERT INTO analytics.product_version_sales
SELECT product_key, sum(quantity), count(DISTINCT transaction_id COLLATE "C"),
       sum(line_total), sum(profit), sum(discount_amount)
FROM warehouse.fact_sales
GROUP BY product_key
ORDER BY product_key;

-- Every product is touched (natural-ids-products.sql), and every day (days.sql): a fact's
-- date_key is a key of warehouse.dim_date, and a day without facts adds no row.
CREATE TEMP TABLE analytics_touched_product_ids ON COMMIT DROP AS
SELECT DISTINCT product_id FROM warehouse.dim_products;
CREATE TEMP TABLE analytics_touched_days ON COMMIT DROP AS
SELECT date_key FROM warehouse.dim_date;
ANALYZE analytics_touched_product_ids, analytics_touched_days;
