-- Per natural id totals of the touched products (analytics_touched_product_ids), from their
-- version summaries.
DELETE FROM analytics.product_sales
WHERE product_id IN (SELECT product_id FROM analytics_touched_product_ids);
INSERT INTO analytics.product_sales
SELECT p.product_id, sum(s.units_sold), sum(s.transactions), sum(s.revenue), sum(s.profit),
       sum(s.discount_total)
FROM analytics.product_version_sales s
JOIN warehouse.dim_products p ON p.product_key = s.product_key
WHERE p.product_id IN (SELECT product_id FROM analytics_touched_product_ids)
GROUP BY 1
ORDER BY 1;
