-- Every product version's sums, from all the facts in one pass.
INSERT INTO warehouse.product_performance_sums
  (product_key, line_count, quantity_sum, line_total_sum, profit_sum, discount_percentage_sum)
SELECT product_key, count(*), sum(quantity), sum(line_total), sum(profit), sum(discount_percentage)
FROM warehouse.fact_sales
GROUP BY product_key
