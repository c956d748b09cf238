-- Category performance. A sale counts toward the category its product had when it was sold
-- (the SCD2 version the fact points at), so a re-categorised product does not rewrite history.
-- A transaction with two products of one category counts once: transactions come from the
-- per-day distinct counts (a transaction has one date, so they add up over days).
WITH category_totals AS (
  SELECT p.category,
         count(DISTINCT p.product_id) AS products_sold,
         sum(s.units_sold)            AS units_sold,
         sum(s.revenue)               AS revenue,
         sum(s.profit)                AS profit,
         sum(s.discount_total)        AS discount_total
  FROM analytics.product_version_sales s
  JOIN warehouse.dim_products p ON p.product_key = s.product_key
  GROUP BY p.category
),
category_transactions AS (
  SELECT category, sum(transactions) AS transactions
  FROM analytics.daily_category_transactions
  GROUP BY category
),
category_sales AS (
  SELECT t.category, t.products_sold, coalesce(c.transactions, 0) AS transactions,
         t.units_sold, t.revenue, t.profit, t.discount_total
  FROM category_totals t
  LEFT JOIN category_transactions c ON c.category IS NOT DISTINCT FROM t.category
)
SELECT rank() OVER (ORDER BY revenue DESC)                            AS revenue_rank,
       category, products_sold, transactions, units_sold, revenue, profit, discount_total,
       round(profit * 100 / NULLIF(revenue, 0), 2)                    AS profit_margin_pct,
       round(revenue / NULLIF(units_sold, 0), 2)                      AS avg_unit_revenue,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2)      AS revenue_share_pct
FROM category_sales
ORDER BY revenue DESC, category NULLS LAST;
