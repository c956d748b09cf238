-- Late-arriving change ($1 = the change's effective date, the run date): effective on or before
-- the start of the current version, it corrects that version in place (see
-- dim-customers-correct-late.sql).
UPDATE warehouse.dim_products d
SET product_name = p.product_name,
    category     = p.category,
    sub_category = p.sub_category,
    brand        = p.brand,
    price_range  = p.price_range
FROM warehouse_product_changes p
WHERE p.product_id = d.product_id
  AND p.is_active
  AND d.is_current
  AND d.effective_date >= $1::date
  AND (d.product_name, d.category, d.sub_category, d.brand, d.price_range)
      IS DISTINCT FROM (p.product_name, p.category, p.sub_category, p.brand, p.price_range)
