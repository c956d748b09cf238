-- A product that left the source is closed on the run date ($1), never deleted (see
-- dim-customers-close-departed.sql).
UPDATE warehouse.dim_products d
SET end_date   = greatest($1::date, d.effective_date + 1),
    is_current = false
FROM warehouse_product_changes p
WHERE p.product_id = d.product_id
  AND NOT p.is_active
  AND d.is_current
