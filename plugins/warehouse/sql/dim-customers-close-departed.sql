-- A member that left the source (production keeps it with is_active = false, and moves its
-- updated_at) is closed on the run date ($1), never deleted: facts refer to it. A version that
-- started on or after that date ends the day after its start, the shortest valid range.
UPDATE warehouse.dim_customers d
SET end_date   = greatest($1::date, d.effective_date + 1),
    is_current = false
FROM warehouse_customer_changes c
WHERE c.customer_id = d.customer_id
  AND NOT c.is_active
  AND d.is_current
