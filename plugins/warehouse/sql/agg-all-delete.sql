-- Every aggregate row is about to be recomputed from all the facts (a first load, or facts that
-- changed other than by appending): none is kept, nor the product sums they are derived from.
DELETE FROM warehouse.agg_daily_sales;
DELETE FROM warehouse.agg_product_performance;
DELETE FROM warehouse.product_performance_sums;
DELETE FROM warehouse.agg_customer_metrics
