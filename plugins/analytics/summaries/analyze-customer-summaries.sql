-- After a rebuild: statistics for the summaries the queries read, so that the next runs' plans
-- (until autovacuum gets to these tables) know their sizes. A sample per table, not a scan; in
-- the rebuilding transaction, which counts its own new rows.
ANALYZE analytics.customer_version_sales, analytics.customer_sales, analytics.daily_payment_sales,
        analytics.monthly_customers;
