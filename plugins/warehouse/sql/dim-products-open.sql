-- The wanted versions of dirty products that no held version matches (dim-products-derive.sql).
WITH opened AS (
  INSERT INTO warehouse.dim_products (product_id, product_name, category, sub_category, brand, price_range, effective_date, end_date, is_current)
  SELECT d.product_id, d.product_name, d.category, d.sub_category, d.brand, d.price_range, d.effective_date, d.end_date, d.is_current
  FROM warehouse_products_diff d
  
  WHERE d.wanted AND NOT d.held
  -- Surrogate keys in natural-id and date order, so they do not depend on the plan or the locale.
  ORDER BY d.product_id COLLATE "C", d.effective_date
  RETURNING effective_date
)
SELECT count(*)::int AS opened,
       count(*) FILTER (WHERE effective_date = DATE '1900-01-01')::int AS first_versions
FROM opened
