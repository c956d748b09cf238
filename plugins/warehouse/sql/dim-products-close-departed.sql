-- A product that left the source is closed on the run date ($1), never deleted (see
-- dim-customers-close-departed.sql).
UPDATE warehouse.dim_products d
SET end_date   = greatest($1::date, d.effective_date + 1),
    is_current = false
WHERE d.is_current
  AND NOT EXISTS (SELECT 1 FROM production.products p WHERE p.product_id = d.product_id AND p.is_active)
