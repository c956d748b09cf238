-- A member that left the source (production keeps it with is_active = false) is closed on the
-- run date ($1), never deleted: facts refer to it. A version that started on or after that date
-- ends the day after its start, the shortest valid range.
UPDATE warehouse.dim_customers d
SET end_date   = greatest($1::date, d.effective_date + 1),
    is_current = false
WHERE d.is_current
  AND NOT EXISTS (SELECT 1 FROM production.customers c WHERE c.customer_id = d.customer_id AND c.is_active)
