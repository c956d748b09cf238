-- First load: fact_sales was empty, so the aggregates (a GROUP BY over it) hold no row; emptied
-- all the same, in case rows were left behind by hand.
DELETE FROM warehouse.agg_daily_sales;
DELETE FROM warehouse.agg_product_performance;
DELETE FROM warehouse.agg_customer_metrics
