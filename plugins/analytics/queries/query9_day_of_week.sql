-- Sales by day of week (ISO: 1 = Monday). Averages are per calendar day of that weekday between
-- the first and the last sale date, days without sales included, not per line item.
WITH daily_sales AS (
  SELECT d.full_date,
         sum(s.transactions) AS transactions,
         sum(s.revenue)      AS revenue
  FROM analytics.daily_payment_sales s
  JOIN warehouse.dim_date d ON d.date_key = s.date_key
  GROUP BY d.full_date
),
calendar AS (
  SELECT g::date AS full_date
  FROM (SELECT min(full_date) AS first_day, max(full_date) AS last_day FROM daily_sales) r,
       generate_series(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') g
),
weekday_sales AS (
  SELECT extract(isodow FROM c.full_date)::int AS day_of_week,
         to_char(c.full_date, 'FMDay')         AS day_name,
         count(*)                              AS days,
         coalesce(sum(s.transactions), 0)      AS transactions,
         coalesce(sum(s.revenue), 0.00)        AS revenue
  FROM calendar c
  LEFT JOIN daily_sales s ON s.full_date = c.full_date
  GROUP BY 1, 2
)
SELECT day_of_week, day_name, days, transactions, revenue,
       round(revenue / days, 2)                                  AS avg_daily_revenue,
       round(transactions::numeric / days, 2)                    AS avg_daily_transactions,
       round(revenue / NULLIF(transactions, 0), 2)               AS avg_order_value,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2) AS revenue_share_pct
FROM weekday_sales
ORDER BY day_of_week;
