-- A customer no longer in the staged snapshot stays (facts refer to it) but is marked removed.
-- A customer still staged but rejected this time has not left the source and is left as it is.
UPDATE production.customers p
SET is_active = false, removed_at = st.removed_at, updated_at = now()
FROM etl_settings st
WHERE p.is_active
  AND NOT EXISTS (SELECT 1 FROM etl_customers c WHERE c.customer_id = p.customer_id)
