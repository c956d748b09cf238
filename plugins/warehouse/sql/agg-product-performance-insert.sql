-- avg_discount_percentage: the plain mean of the items' discount rates.
INSERT INTO warehouse.agg_product_performance (product_key, total_quantity_sold, total_revenue, total_profit, avg_discount_percentage)
SELECT product_key,
       sum(quantity),
       sum(line_total),
       sum(profit),
       round(avg(discount_percentage), 2)
FROM warehouse.fact_sales
WHERE product_key IN (SELECT product_key FROM warehouse_new_sales)
GROUP BY product_key
