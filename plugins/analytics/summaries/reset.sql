-- Empties the summaries so that refresh-scope.sql takes every fact as new: on the first run, and
-- whenever the facts changed other than by appending (summary_state.stale).
TRUNCATE analytics.transactions, analytics.customer_version_sales, analytics.product_version_sales,
         analytics.customer_sales, analytics.product_sales,
         analytics.daily_payment_sales, analytics.daily_discount_band_sales,
         analytics.daily_category_transactions, analytics.product_categories, analytics.monthly_customers;
INSERT INTO analytics.summary_state (last_sales_key, stale) VALUES (0, false)
ON CONFLICT (singleton) DO UPDATE SET last_sales_key = 0, stale = false;
