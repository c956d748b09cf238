-- Category performance. A sale counts toward the category its product had when it was sold
-- (the SCD2 version the fact points at), so a re-categorised product does not rewrite history.
WITH category_sales AS (
  SELECT p.category,
         count(DISTINCT p.product_id)     AS products_sold,
         count(DISTINCT f.transaction_id COLLATE "C") AS transactions,
         sum(f.quantity)                  AS units_sold,
         sum(f.line_total)                AS revenue,
         sum(f.profit)                    AS profit,
         sum(f.discount_amount)           AS discount_total
  FROM warehouse.fact_sales f
  JOIN warehouse.dim_products p ON p.product_key = f.product_key
  GROUP BY p.category
)
SELECT rank() OVER (ORDER BY revenue DESC)                            AS revenue_rank,
       category, products_sold, transactions, units_sold, revenue, profit, discount_total,
       round(profit * 100 / NULLIF(revenue, 0), 2)                    AS profit_margin_pct,
       round(revenue / NULLIF(units_sold, 0), 2)                      AS avg_unit_revenue,
       round(revenue * 100 / NULLIF(sum(revenue) OVER (), 0), 2)      AS revenue_share_pct
FROM category_sales
ORDER BY revenue DESC, category NULLS LAST;
