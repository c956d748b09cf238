-- The facts' changes (warehouse_fact_delta) applied to the sums of their product versions: each
-- new or updated fact added as it is now, each updated or deleted one subtracted as it was.
-- Sums of numerics are exact, so nothing older is read; a version left without facts loses its
-- row (agg-product-performance-refresh.sql then removes its aggregate row too).
INSERT INTO warehouse.product_performance_sums AS s
  (product_key, line_count, quantity_sum, line_total_sum, profit_sum, discount_percentage_sum)
SELECT product_key, sum(sign), sum(sign * quantity), sum(sign * line_total), sum(sign * profit),
       sum(sign * discount_percentage)
FROM warehouse_fact_delta
GROUP BY product_key
ON CONFLICT (product_key) DO UPDATE
SET line_count              = s.line_count + excluded.line_count,
    quantity_sum            = s.quantity_sum + excluded.quantity_sum,
    line_total_sum          = s.line_total_sum + excluded.line_total_sum,
    profit_sum              = s.profit_sum + excluded.profit_sum,
    discount_percentage_sum = s.discount_percentage_sum + excluded.discount_percentage_sum;

DELETE FROM warehouse.product_performance_sums
WHERE line_count = 0 AND product_key IN (SELECT product_key FROM warehouse_fact_delta);
