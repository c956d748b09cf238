UPDATE production.products p
SET is_active = false, removed_at = st.removed_at, updated_at = now()
FROM etl_settings st
WHERE p.is_active
  AND NOT EXISTS (SELECT 1 FROM etl_products c WHERE c.product_id = p.product_id)
