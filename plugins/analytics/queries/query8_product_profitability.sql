-- Product profitability, one row per product sold (natural id across SCD2 versions; attributes
-- of the latest version). cost = revenue - profit = sum(quantity * unit cost).
-- Sales per product natural id: analytics.product_sales (summaries/natural-ids-products.sql).
WITH latest_version AS (
  -- Byte order ("C") sorts faster and, being deterministic, groups the same ids.
  SELECT DISTINCT ON (product_id COLLATE "C") product_id, product_name, category, brand
  FROM warehouse.dim_products
  ORDER BY product_id COLLATE "C", is_current DESC, effective_date DESC, product_key DESC
)
SELECT rank() OVER (ORDER BY s.profit DESC)                                  AS profit_rank,
       rank() OVER (PARTITION BY v.category ORDER BY s.profit DESC)          AS category_profit_rank,
       s.product_id, v.product_name, v.category, v.brand,
       s.units_sold, s.revenue, s.revenue - s.profit AS cost, s.profit, s.discount_total,
       round(s.profit * 100 / NULLIF(s.revenue, 0), 2)                       AS profit_margin_pct,
       round(s.profit / NULLIF(s.units_sold, 0), 2)                          AS profit_per_unit
FROM analytics.product_sales s
JOIN latest_version v ON v.product_id = s.product_id
ORDER BY s.profit DESC, s.product_id;
