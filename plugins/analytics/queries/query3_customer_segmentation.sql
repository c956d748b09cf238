-- Customers segmented by total spend. A customer is its natural id across SCD2 versions.
-- $1: 'quantile' or 'fixed'; $2: band names; $3: band minimums, highest first, the last one 0.
-- quantile: a customer whose spend ranks above a share `min` of the other customers
--   (rank - 1 >= min * (customers - 1), exact arithmetic, ties share a band) is in that band;
-- fixed: a customer whose total spend is at least `min` is in that band.
-- Every band is listed, also an empty one.
WITH bands AS (
  SELECT b.name, b.min_value, b.band_order
  FROM unnest($2::text[], $3::numeric[]) WITH ORDINALITY AS b(name, min_value, band_order)
),
customer_spend AS (
  SELECT customer_id AS customer_group, spend, transactions
  FROM analytics.customer_sales
),
positioned AS (
  SELECT customer_group, spend, transactions,
         rank() OVER (ORDER BY spend) - 1 AS customers_below
  FROM customer_spend
),
-- Each band's threshold on the measure the method compares, lowest band first; width_bucket
-- counts the thresholds a customer reaches, so the band is the highest whose minimum it reaches
-- (bands are validated strictly decreasing, the last one at 0): one binary search per customer
-- instead of a lookup over the bands.
thresholds AS (
  SELECT count(*) AS band_count,
         array_agg(CASE WHEN $1::text = 'quantile' THEN b.min_value * o.other_customers ELSE b.min_value END
                   ORDER BY b.band_order DESC) AS ascending
  FROM bands b
  CROSS JOIN (SELECT count(*) - 1 AS other_customers FROM customer_spend) o
),
assigned AS (
  SELECT p.customer_group, p.spend, p.transactions,
         t.band_count + 1 - width_bucket(CASE WHEN $1::text = 'quantile' THEN p.customers_below::numeric
                                              ELSE p.spend END, t.ascending) AS band_order
  FROM positioned p
  CROSS JOIN thresholds t
)
SELECT b.name                                                          AS segment,
       count(a.customer_group)                                         AS customers,
       round(count(a.customer_group) * 100.0 / NULLIF(sum(count(a.customer_group)) OVER (), 0), 2) AS customer_share_pct,
       min(a.spend)                                                    AS min_spend,
       max(a.spend)                                                    AS max_spend,
       round(avg(a.spend), 2)                                          AS avg_spend,
       coalesce(sum(a.spend), 0.00)                                    AS revenue,
       round(coalesce(sum(a.spend), 0.00) * 100 / NULLIF(sum(sum(a.spend)) OVER (), 0), 2) AS revenue_share_pct,
       coalesce(sum(a.transactions), 0)                                AS transactions,
       round(sum(a.spend) / NULLIF(sum(a.transactions), 0), 2)         AS avg_order_value
FROM bands b
LEFT JOIN assigned a ON a.band_order = b.band_order
GROUP BY b.band_order, b.name
ORDER BY b.band_order;
