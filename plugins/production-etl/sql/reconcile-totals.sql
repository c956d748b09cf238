-- A transaction's total is the sum of its lines in production, whichever business date each came
-- from (a transaction without lines keeps the total it arrived with). New transactions were
-- inserted with it; this brings back in line those whose lines this load changed otherwise
-- (etl_total_touched). Only rows whose total differs are written.
UPDATE production.transactions p
SET total_amount = coalesce(s.items_total, p.source_total_amount),
    updated_at = now()
FROM (SELECT DISTINCT transaction_id FROM etl_total_touched) touched
LEFT JOIN LATERAL (SELECT sum(i.line_total) AS items_total
                   FROM production.transaction_items i
                   WHERE i.transaction_id = touched.transaction_id) s ON true
WHERE p.transaction_id = touched.transaction_id
  AND p.total_amount IS DISTINCT FROM coalesce(s.items_total, p.source_total_amount)
