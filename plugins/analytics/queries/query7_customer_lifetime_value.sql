-- Customer lifetime value, one row per customer who bought: every SCD2 version counts toward the
-- natural id; name, place and segment are those of the latest version.
-- $1: the run date, the "today" of recency and tenure (never CURRENT_DATE: reruns must agree).
-- tenure_days counts the first purchase day itself; annualized_value = total_spent scaled to 365
-- days of tenure.
WITH customer_group_sales AS (
  SELECT g.customer_group,
         min(d.full_date)                 AS first_purchase_date,
         max(d.full_date)                 AS last_purchase_date,
         count(DISTINCT t.txn)            AS transactions,
         sum(t.quantity)                  AS units_bought,
         sum(t.revenue)                   AS total_spent,
         sum(t.profit)                    AS total_profit
  FROM analytics_transactions t
  JOIN analytics_customer_groups g ON g.customer_key = t.customer_key
  JOIN warehouse.dim_date d ON d.date_key = t.date_key
  GROUP BY g.customer_group
),
customer_sales AS (
  SELECT c.customer_id, s.first_purchase_date, s.last_purchase_date, s.transactions,
         s.units_bought, s.total_spent, s.total_profit
  FROM customer_group_sales s
  JOIN warehouse.dim_customers c ON c.customer_key = s.customer_group
),
latest_version AS (
  SELECT DISTINCT ON (customer_id) customer_id, full_name, city, state, customer_segment
  FROM warehouse.dim_customers
  ORDER BY customer_id, is_current DESC, effective_date DESC, customer_key DESC
)
SELECT rank() OVER (ORDER BY s.total_spent DESC)                          AS value_rank,
       s.customer_id, v.full_name, v.city, v.state, v.customer_segment,
       to_char(s.first_purchase_date, 'YYYY-MM-DD')                      AS first_purchase_date,
       to_char(s.last_purchase_date, 'YYYY-MM-DD')                       AS last_purchase_date,
       s.transactions, s.units_bought, s.total_spent, s.total_profit,
       round(s.total_spent / s.transactions, 2)                          AS avg_order_value,
       $1::date - s.last_purchase_date                                   AS recency_days,
       $1::date - s.first_purchase_date + 1                              AS tenure_days,
       round(s.total_spent * 365 / GREATEST($1::date - s.first_purchase_date + 1, 1), 2) AS annualized_value
FROM customer_sales s
JOIN latest_version v ON v.customer_id = s.customer_id
ORDER BY s.total_spent DESC, s.customer_id;
