-- Sales by state. A sale counts toward the state the customer lived in when buying (the SCD2
-- version the fact points at): a customer who moved is counted in each state they bought in.
-- A transaction belongs to one customer version, so transactions add up over versions.
WITH state_sales AS (
  SELECT c.country, c.state,
         count(DISTINCT c.customer_id) AS customers,
         sum(s.transactions)           AS transactions,
         sum(s.revenue)                AS revenue,
         sum(s.profit)                 AS profit
  FROM analytics.customer_version_sales s
  JOIN warehouse.dim_customers c ON c.customer_key = s.customer_key
  GROUP BY c.country, c.state
)
SELECT rank() OVER (ORDER BY revenue DESC)                       AS revenue_rank,
       country, state, customers, transactions, revenue, profit,
       round(revenue / NULLIF(transactions, 0), 2)               AS avg_order_value,
       round(revenue / NULLIF(customers, 0), 2)                  AS revenue_per_customer,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2) AS revenue_share_pct
FROM state_sales
ORDER BY revenue DESC, country NULLS LAST, state NULLS LAST;
