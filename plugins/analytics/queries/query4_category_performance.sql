-- Category performance. A sale counts toward the category its product had when it was sold
-- (the SCD2 version the fact points at), so a re-categorised product does not rewrite history.
-- The facts are grouped by integers standing for the category and the product natural id (the
-- lowest product_key carrying it; NULL categories form one group, as in GROUP BY), which sort
-- far faster than their text.
WITH product_groups AS (
  SELECT product_key,
         min(product_key) OVER (PARTITION BY product_id) AS product_group,
         min(product_key) OVER (PARTITION BY category)   AS category_group
  FROM warehouse.dim_products
),
category_totals AS (
  SELECT g.category_group,
         count(DISTINCT g.product_group)              AS products_sold,
         count(DISTINCT f.transaction_id COLLATE "C") AS transactions,
         sum(f.quantity)                              AS units_sold,
         sum(f.line_total)                            AS revenue,
         sum(f.profit)                                AS profit,
         sum(f.discount_amount)                       AS discount_total
  FROM warehouse.fact_sales f
  JOIN product_groups g ON g.product_key = f.product_key
  GROUP BY g.category_group
),
category_sales AS (
  SELECT p.category, t.products_sold, t.transactions, t.units_sold, t.revenue, t.profit, t.discount_total
  FROM category_totals t
  JOIN warehouse.dim_products p ON p.product_key = t.category_group
)
SELECT rank() OVER (ORDER BY revenue DESC)                            AS revenue_rank,
       category, products_sold, transactions, units_sold, revenue, profit, discount_total,
       round(profit * 100 / NULLIF(revenue, 0), 2)                    AS profit_margin_pct,
       round(revenue / NULLIF(units_sold, 0), 2)                      AS avg_unit_revenue,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2)      AS revenue_share_pct
FROM category_sales
ORDER BY revenue DESC, category NULLS LAST;
