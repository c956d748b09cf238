-- The category each product version is counted under from now on.
INSERT INTO analytics.product_categories (product_key, category)
SELECT p.product_key, p.category
FROM warehouse.dim_products p
LEFT JOIN analytics.product_categories c ON c.product_key = p.product_key
WHERE c.product_key IS NULL OR p.category IS DISTINCT FROM c.category
ON CONFLICT (product_key) DO UPDATE SET category = EXCLUDED.category;

UPDATE analytics.summary_state
SET last_sales_key = coalesce((SELECT max(sales_key) FROM warehouse.fact_sales), 0),
    stale = false,
    refreshed_at = now();
