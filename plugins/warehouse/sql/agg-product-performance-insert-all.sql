-- Every product version from its sums (product-performance-sums-insert-all.sql; see
-- agg-product-performance-insert.sql for the average).
INSERT INTO warehouse.agg_product_performance (product_key, total_quantity_sold, total_revenue, total_profit, avg_discount_percentage)
SELECT product_key, quantity_sum, line_total_sum, profit_sum, round(discount_percentage_sum / line_count, 2)
FROM warehouse.product_performance_sums
