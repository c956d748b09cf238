-- The category each product version is counted under from now on.
-- Here and below, a dimension read inside a statement that writes an analytics table is a subquery
-- with OFFSET 0: on a Citus cluster the dimensions are reference tables, which such a statement
-- may join only as a result read first (the fence); plain PostgreSQL scans the small table alike.
INSERT INTO analytics.product_categories (product_key, category)
SELECT p.product_key, p.category
FROM (SELECT product_key, category FROM warehouse.dim_products OFFSET 0) p
LEFT JOIN analytics.product_categories c ON c.product_key = p.product_key
WHERE c.product_key IS NULL OR p.category IS DISTINCT FROM c.category
ON CONFLICT (product_key) DO UPDATE SET category = EXCLUDED.category;

-- Versions the warehouse retired.
DELETE FROM analytics.product_categories c
WHERE NOT EXISTS (SELECT 1 FROM (SELECT product_key FROM warehouse.dim_products OFFSET 0) p WHERE p.product_key = c.product_key);

-- The summaries follow every fact and every logged change up to here; this stage is the log's
-- reader, so the changes it has followed are removed.
UPDATE analytics.summary_state
SET last_sales_key = coalesce((SELECT max(sales_key) FROM warehouse.fact_sales), 0),
    last_change_id = coalesce((SELECT max(change_id) FROM warehouse.fact_changes), last_change_id),
    stale = false,
    refreshed_at = now();
DELETE FROM warehouse.fact_changes
WHERE change_id <= (SELECT last_change_id FROM analytics.summary_state);
