-- Sales by state. A sale counts toward the state the customer lived in when buying (the SCD2
-- version the fact points at): a customer who moved is counted in each state they bought in.
WITH place_sales AS (
  SELECT g.place_group,
         count(DISTINCT g.customer_group) AS customers,
         count(DISTINCT t.txn)            AS transactions,
         sum(t.revenue)                   AS revenue,
         sum(t.profit)                    AS profit
  FROM analytics_transactions t
  JOIN analytics_customer_groups g ON g.customer_key = t.customer_key
  GROUP BY g.place_group
),
state_sales AS (
  SELECT c.country, c.state, s.customers, s.transactions, s.revenue, s.profit
  FROM place_sales s
  JOIN warehouse.dim_customers c ON c.customer_key = s.place_group
)
SELECT rank() OVER (ORDER BY revenue DESC)                       AS revenue_rank,
       country, state, customers, transactions, revenue, profit,
       round(revenue / NULLIF(transactions, 0), 2)               AS avg_order_value,
       round(revenue / NULLIF(customers, 0), 2)                  AS revenue_per_customer,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2) AS revenue_share_pct
FROM state_sales
ORDER BY revenue DESC, country NULLS LAST, state NULLS LAST;
