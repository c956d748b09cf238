-- Customer lifetime value, one row per customer who bought: every SCD2 version counts toward the
-- natural id; name, place and segment are those of the latest version.
-- "Today" of recency and tenure: the latest business date the warehouse holds (warehouse.load_state),
-- so that the file does not depend on the order in which dates were loaded; $1, the run date,
-- before the first load. Never CURRENT_DATE: reruns must agree.
-- tenure_days counts the first purchase day itself; annualized_value = total_spent scaled to 365
-- days of tenure.
-- Sales per customer natural id: analytics.customer_sales (summaries/natural-ids-customers.sql).
WITH as_of AS (
  SELECT coalesce((SELECT as_of_date FROM warehouse.load_state), $1::date) AS today
),
customer_sales AS (
  SELECT s.customer_id, first_day.full_date AS first_purchase_date, last_day.full_date AS last_purchase_date,
         s.transactions, s.units_bought, s.spend AS total_spent, s.profit AS total_profit
  FROM analytics.customer_sales s
  JOIN warehouse.dim_date first_day ON first_day.date_key = s.first_date_key
  JOIN warehouse.dim_date last_day ON last_day.date_key = s.last_date_key
),
latest_version AS (
  -- Byte order ("C") sorts faster and, being deterministic, groups the same ids.
  SELECT DISTINCT ON (customer_id COLLATE "C") customer_id, full_name, city, state, customer_segment
  FROM warehouse.dim_customers
  ORDER BY customer_id COLLATE "C", is_current DESC, effective_date DESC, customer_key DESC
)
SELECT rank() OVER (ORDER BY s.total_spent DESC)                          AS value_rank,
       s.customer_id, v.full_name, v.city, v.state, v.customer_segment,
       to_char(s.first_purchase_date, 'YYYY-MM-DD')                      AS first_purchase_date,
       to_char(s.last_purchase_date, 'YYYY-MM-DD')                       AS last_purchase_date,
       s.transactions, s.units_bought, s.total_spent, s.total_profit,
       round(s.total_spent / s.transactions, 2)                          AS avg_order_value,
       a.today - s.last_purchase_date                                    AS recency_days,
       a.today - s.first_purchase_date + 1                               AS tenure_days,
       round(s.total_spent * 365 / GREATEST(a.today - s.first_purchase_date + 1, 1), 2) AS annualized_value
FROM customer_sales s
JOIN latest_version v ON v.customer_id = s.customer_id
CROSS JOIN as_of a
ORDER BY s.total_spent DESC, s.customer_id;
