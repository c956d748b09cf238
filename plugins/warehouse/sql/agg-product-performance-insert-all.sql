-- First load: every product version from the facts (agg-product-performance-insert.sql without
-- the filter on touched keys: on a first load every key is touched).
INSERT INTO warehouse.agg_product_performance (product_key, total_quantity_sold, total_revenue, total_profit, avg_discount_percentage)
SELECT product_key,
       sum(quantity),
       sum(line_total),
       sum(profit),
       round(avg(discount_percentage), 2)
FROM warehouse.fact_sales
GROUP BY product_key
