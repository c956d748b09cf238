-- The cost of each product of the target sales (all of them on a first load, $1 = true) by date:
-- from each 'present' history row to the next (the first from -infinity).
CREATE TEMP TABLE warehouse_product_costs ON COMMIT DROP AS
SELECT h.product_id,
       CASE WHEN lag(h.business_date) OVER w IS NULL THEN DATE '-infinity' ELSE h.business_date END AS from_date,
       coalesce(lead(h.business_date) OVER w, DATE 'infinity') AS to_date,
       h.cost
FROM production.product_history h
WHERE h.observation = 'present'
  AND ($1::boolean OR h.product_id IN (SELECT product_id FROM warehouse_target_sales))
WINDOW w AS (PARTITION BY h.product_id ORDER BY h.business_date);
