-- The product versions the facts' changes touched, derived again from their sums.
-- avg_discount_percentage: the plain mean of the lines' discount rates. avg() over numerics is the
-- sum divided by the count, so this rounds the same quotient round(avg(discount_percentage), 2)
-- does, and the row equals a fresh GROUP BY over fact_sales.
DELETE FROM warehouse.agg_product_performance
WHERE product_key IN (SELECT product_key FROM warehouse_fact_delta);

INSERT INTO warehouse.agg_product_performance (product_key, total_quantity_sold, total_revenue, total_profit, avg_discount_percentage)
SELECT product_key, quantity_sum, line_total_sum, profit_sum, round(discount_percentage_sum / line_count, 2)
FROM warehouse.product_performance_sums
WHERE product_key IN (SELECT product_key FROM warehouse_fact_delta);
