-- After a rebuild: statistics for the summaries the queries read, so that the next runs' plans
-- (until autovacuum gets to these tables) know their sizes. A sample per table, not a scan.
ANALYZE analytics.customer_version_sales, analytics.customer_sales, analytics.product_version_sales,
        analytics.product_sales, analytics.daily_payment_sales, analytics.daily_discount_band_sales,
        analytics.daily_category_transactions, analytics.monthly_customers, analytics.product_categories;
