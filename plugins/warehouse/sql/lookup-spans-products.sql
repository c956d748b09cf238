-- As lookup-spans.sql, for products; and the product's cost as of a date, which profit uses: the
-- cost of its latest 'present' history row on or before the date (the first one reaching back to
-- -infinity), so that profit does not depend on when a sale was loaded.
CREATE TEMP TABLE warehouse_product_spans ON COMMIT DROP AS
SELECT v.product_id,
       v.product_key,
       CASE WHEN lag(v.effective_date) OVER w IS NULL THEN DATE '-infinity' ELSE v.effective_date END AS from_date,
       coalesce(lead(v.effective_date) OVER w, DATE 'infinity') AS to_date
FROM warehouse.dim_products v
WHERE ($1::boolean OR v.product_id IN (SELECT product_id FROM warehouse_target_sales))
  AND NOT EXISTS (SELECT 1 FROM warehouse_products_diff d WHERE d.product_key = v.product_key AND NOT d.wanted)
WINDOW w AS (PARTITION BY v.product_id ORDER BY v.effective_date);
