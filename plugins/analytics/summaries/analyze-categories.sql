-- After a rebuild: statistics for analytics.product_categories (finish.sql has just filled it),
-- which the next refresh's scope joins to every product version.
ANALYZE analytics.product_categories;
