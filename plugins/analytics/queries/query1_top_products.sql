-- Top products by revenue.
-- Every SCD2 version of a product counts toward its natural id; name, category and brand are
-- those of its latest version (the current one, or the last closed one if it left the source).
-- $1: how many products to list.
-- Sales per product natural id: analytics.product_sales (summaries/natural-ids-products.sql).
WITH latest_version AS (
  -- Byte order ("C") sorts faster and, being deterministic, groups the same ids.
  SELECT DISTINCT ON (product_id COLLATE "C") product_id, product_name, category, brand
  FROM warehouse.dim_products
  ORDER BY product_id COLLATE "C", is_current DESC, effective_date DESC, product_key DESC
),
ranked AS (
  SELECT row_number() OVER (ORDER BY s.revenue DESC, s.product_id) AS revenue_rank,
         s.product_id, v.product_name, v.category, v.brand,
         s.units_sold, s.transactions, s.revenue, s.profit,
         -- The share is of all products' revenue, computed before the top-N cut.
         round(s.revenue * 100 / NULLIF(sum(s.revenue) OVER (), 0), 2) AS revenue_share_pct
  FROM analytics.product_sales s
  JOIN latest_version v ON v.product_id = s.product_id
)
SELECT revenue_rank, product_id, product_name, category, brand,
       units_sold, transactions, revenue, profit, revenue_share_pct
FROM ranked
WHERE revenue_rank <= $1::int
ORDER BY revenue_rank;
