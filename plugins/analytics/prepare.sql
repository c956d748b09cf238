-- Per natural id totals that several queries share, read from the persistent summaries
-- (summaries/refresh-summaries.sql) once per run. Every SCD2 version of a member counts toward
-- its natural id; a transaction resolves to one version of a member (its lines share one date),
-- so distinct transactions add up across versions. Both tables live until the stage's
-- transaction ends.

-- Queries 1 and 8.
CREATE TEMP TABLE analytics_product_sales ON COMMIT DROP AS
SELECT p.product_id,
       sum(s.units_sold)     AS units_sold,
       sum(s.transactions)   AS transactions,
       sum(s.revenue)        AS revenue,
       sum(s.profit)         AS profit,
       sum(s.discount_total) AS discount_total
FROM analytics.product_version_sales s
JOIN warehouse.dim_products p ON p.product_key = s.product_key
GROUP BY p.product_id;

-- Queries 3 and 7.
CREATE TEMP TABLE analytics_customer_sales ON COMMIT DROP AS
SELECT c.customer_id,
       min(s.first_date_key) AS first_date_key,
       max(s.last_date_key)  AS last_date_key,
       sum(s.transactions)   AS transactions,
       sum(s.units_bought)   AS units_bought,
       sum(s.revenue)        AS spend,
       sum(s.profit)         AS profit
FROM analytics.customer_version_sales s
JOIN warehouse.dim_customers c ON c.customer_key = s.customer_key
GROUP BY c.customer_id;

ANALYZE analytics_product_sales, analytics_customer_sales;
