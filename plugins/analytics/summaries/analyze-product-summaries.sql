-- After a rebuild: statistics for the product and per-day summaries (as
-- analyze-customer-summaries.sql does for the others).
ANALYZE analytics.product_version_sales, analytics.product_sales,
        analytics.daily_discount_band_sales, analytics.daily_category_transactions;
