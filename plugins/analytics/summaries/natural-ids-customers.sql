-- Per natural id totals of the touched customers (analytics_touched_customer_ids), from their
-- version summaries.
DELETE FROM analytics.customer_sales
WHERE customer_id IN (SELECT customer_id FROM analytics_touched_customer_ids);
INSERT INTO analytics.customer_sales
SELECT c.customer_id, min(s.first_date_key), max(s.last_date_key), sum(s.transactions),
       sum(s.units_bought), sum(s.revenue), sum(s.profit)
FROM analytics.customer_version_sales s
JOIN warehouse.dim_customers c ON c.customer_key = s.customer_key
WHERE c.customer_id IN (SELECT customer_id FROM analytics_touched_customer_ids)
GROUP BY 1
ORDER BY 1;
