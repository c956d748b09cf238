-- Monthly sales trend, one row per calendar month from the first to the last month with sales
-- (a month without sales shows zeros, so growth always compares adjacent months).
-- Months are yyyymm keys (date_key is yyyymmdd); a transaction has one date, so its month's
-- transactions add up over days, and customers are counted once per month by natural id.
WITH monthly_totals AS (
  SELECT date_key / 100      AS month_key,
         sum(transactions)   AS transactions,
         sum(units_sold)     AS units_sold,
         sum(revenue)        AS revenue,
         sum(profit)         AS profit
  FROM analytics.daily_payment_sales
  GROUP BY 1
),
monthly_customers AS (
  SELECT month_key, count(*) AS customers
  FROM analytics.monthly_customers
  GROUP BY month_key
),
monthly_sales AS (
  SELECT make_date(t.month_key / 100, t.month_key % 100, 1) AS month_start,
         t.transactions, coalesce(c.customers, 0) AS customers, t.units_sold, t.revenue, t.profit
  FROM monthly_totals t
  LEFT JOIN monthly_customers c ON c.month_key = t.month_key
),
months AS (
  SELECT g::date AS month_start
  FROM (SELECT min(month_start) AS first_month, max(month_start) AS last_month FROM monthly_sales) r,
       generate_series(r.first_month::timestamp, r.last_month::timestamp, interval '1 month') g
),
trend AS (
  SELECT m.month_start,
         coalesce(s.transactions, 0) AS transactions,
         coalesce(s.customers, 0)    AS customers,
         coalesce(s.units_sold, 0)   AS units_sold,
         coalesce(s.revenue, 0.00)   AS revenue,
         coalesce(s.profit, 0.00)    AS profit
  FROM months m
  LEFT JOIN monthly_sales s ON s.month_start = m.month_start
)
SELECT to_char(month_start, 'YYYY-MM') AS month,
       transactions, customers, units_sold, revenue, profit,
       round(revenue / NULLIF(transactions, 0), 2) AS avg_order_value,
       round((revenue - lag(revenue) OVER w) * 100 / NULLIF(lag(revenue) OVER w, 0), 2) AS revenue_growth_pct,
       sum(revenue) OVER (w ROWS UNBOUNDED PRECEDING) AS cumulative_revenue
FROM trend
WINDOW w AS (ORDER BY month_start)
ORDER BY month_start;
