-- A current version for every active product that has none (see dim-customers-open-versions.sql);
-- only a product changed since the latest load can be without one.
WITH opened AS (
  INSERT INTO warehouse.dim_products
    (product_id, product_name, category, sub_category, brand, price_range, effective_date)
  SELECT p.product_id, p.product_name, p.category, p.sub_category, p.brand, p.price_range,
         CASE WHEN h.last_end IS NULL THEN DATE '1900-01-01' ELSE greatest($1::date, h.last_end) END
  FROM warehouse_product_changes p
  LEFT JOIN LATERAL (SELECT max(v.end_date) AS last_end
                     FROM warehouse.dim_products v
                     WHERE v.product_id = p.product_id) h ON true
  WHERE p.is_active
    AND NOT EXISTS (SELECT 1 FROM warehouse.dim_products d WHERE d.product_id = p.product_id AND d.is_current)
  ORDER BY p.product_id COLLATE "C"
  RETURNING effective_date
)
SELECT count(*)::int AS opened,
       count(*) FILTER (WHERE effective_date = DATE '1900-01-01')::int AS first_versions
FROM opened
