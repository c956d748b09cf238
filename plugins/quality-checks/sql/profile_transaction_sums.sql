-- The fast pass between staging.transactions and staging.transaction_items ($1 tolerance, $2 run
-- date; a late line of a transaction loaded from an earlier business date is no orphan): the
-- items are summed per transaction_id once, and one full join with the transactions answers both
-- transactions_total_amount (a transaction whose total is not the sum of its lines; no items sums
-- to 0) and transaction_items_orphan_transaction (item groups without a transaction). Numbers are
-- above 0 exactly when the check has failing rows; the sum is computed as in
-- transactions_total_amount.sql (line totals that are not numbers below 10^10 left out).
-- The few groups without a staged transaction are looked up in production once, as a set (a join,
-- not a probe per row: on Citus production.transactions is distributed, and a subquery correlated
-- with staging rows is refused there; docs/operations.md, "Beyond one machine").
WITH line_sums AS (
  SELECT transaction_id, count(*) AS items,
         (sum(CASE WHEN abs(line_total) < 1e10 THEN (line_total * 100)::bigint END) / 100.0)::numeric(14,2) AS lines_total
  FROM staging.transaction_items
  GROUP BY transaction_id
), groups AS MATERIALIZED (
  SELECT t.ctid IS NOT NULL AS staged, t.total_amount, s.transaction_id, s.items, s.lines_total
  FROM staging.transactions t
  FULL JOIN line_sums s ON s.transaction_id = t.transaction_id
), loaded_before AS (
  SELECT p.transaction_id
  FROM production.transactions p
  WHERE p.business_date < $2::date
    AND p.transaction_id IN (SELECT g.transaction_id FROM groups g
                             WHERE NOT g.staged AND nullif(btrim(g.transaction_id), '') IS NOT NULL)
)
SELECT json_build_object(
    'transactions_total_amount', count(*) FILTER (
      WHERE g.staged AND abs(g.total_amount - coalesce(g.lines_total, 0)) > $1::numeric),
    'transaction_items_orphan_transaction', coalesce(sum(g.items) FILTER (
      WHERE NOT g.staged AND nullif(btrim(g.transaction_id), '') IS NOT NULL AND k.transaction_id IS NULL), 0)
  ) AS failing
FROM groups g
LEFT JOIN loaded_before k ON k.transaction_id = g.transaction_id;
