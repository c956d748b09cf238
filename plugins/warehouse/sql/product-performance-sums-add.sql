-- The facts this run inserted (warehouse_new_sales, by item_id: the grain), added to the sums of
-- their product versions. Nothing older is read: the sums already hold it.
INSERT INTO warehouse.product_performance_sums AS s
  (product_key, line_count, quantity_sum, line_total_sum, profit_sum, discount_percentage_sum)
SELECT f.product_key, count(*), sum(f.quantity), sum(f.line_total), sum(f.profit), sum(f.discount_percentage)
FROM warehouse.fact_sales f
WHERE f.item_id IN (SELECT item_id FROM warehouse_new_sales)
GROUP BY f.product_key
ON CONFLICT (product_key) DO UPDATE
SET line_count              = s.line_count + excluded.line_count,
    quantity_sum            = s.quantity_sum + excluded.quantity_sum,
    line_total_sum          = s.line_total_sum + excluded.line_total_sum,
    profit_sum              = s.profit_sum + excluded.profit_sum,
    discount_percentage_sum = s.discount_percentage_sum + excluded.discount_percentage_sum
