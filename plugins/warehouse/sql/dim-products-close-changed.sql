-- A tracked attribute changed ($1 = the change's effective date): the current version ends where
-- the new one (opened by dim-products-open-versions.sql) begins.
UPDATE warehouse.dim_products d
SET end_date   = $1::date,
    is_current = false
FROM warehouse_product_changes p
WHERE p.product_id = d.product_id
  AND p.is_active
  AND d.is_current
  AND d.effective_date < $1::date
  AND (d.product_name, d.category, d.sub_category, d.brand, d.price_range)
      IS DISTINCT FROM (p.product_name, p.category, p.sub_category, p.brand, p.price_range)
