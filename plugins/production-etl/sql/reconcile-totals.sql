-- A transaction's total is the sum of its lines in production, whichever business date each came
-- from (a transaction without lines keeps the total it arrived with). New transactions were
-- inserted with it; this brings back in line those whose lines this load changed otherwise
-- (etl_total_touched). Only rows whose total differs are written. The sums are read by a
-- subquery of their own, not one per touched row: on Citus the fact tables are distributed, and a
-- subquery correlated with a local row is refused (docs/operations.md, "Beyond one machine").
UPDATE production.transactions p
SET total_amount = coalesce(s.items_total, p.source_total_amount),
    updated_at = now()
FROM (SELECT touched.transaction_id, sums.items_total
      FROM (SELECT DISTINCT transaction_id FROM etl_total_touched) touched
      LEFT JOIN (SELECT i.transaction_id, sum(i.line_total) AS items_total
                 FROM production.transaction_items i
                 WHERE i.transaction_id IN (SELECT transaction_id FROM etl_total_touched)
                 GROUP BY i.transaction_id
                 OFFSET 0) sums ON sums.transaction_id = touched.transaction_id
      OFFSET 0) s
WHERE p.transaction_id = s.transaction_id
  AND p.total_amount IS DISTINCT FROM coalesce(s.items_total, p.source_total_amount)
