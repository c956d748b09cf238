-- Monthly sales trend, one row per calendar month from the first to the last month with sales
-- (a month without sales shows zeros, so growth always compares adjacent months).
WITH monthly_sales AS (
  SELECT make_date(d.year, d.month, 1)    AS month_start,
         count(DISTINCT t.txn)            AS transactions,
         count(DISTINCT g.customer_group) AS customers,
         sum(t.quantity)                  AS units_sold,
         sum(t.revenue)                   AS revenue,
         sum(t.profit)                    AS profit
  FROM analytics_transactions t
  JOIN warehouse.dim_date d ON d.date_key = t.date_key
  JOIN analytics_customer_groups g ON g.customer_key = t.customer_key
  GROUP BY d.year, d.month
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
