-- The fast pass between staging.transactions and staging.transaction_items ($1 tolerance, $2 run
-- date; a late line of a transaction loaded from an earlier business date is no orphan): the
-- items are summed per transaction_id once, and one full join with the transactions answers both
-- transactions_total_amount (a transaction whose total is not the sum of its lines; no items sums
-- to 0) and transaction_items_orphan_transaction (item groups without a transaction). Numbers are
-- above 0 exactly when the check has failing rows; the sum is computed as in
-- transactions_total_amount.sql (line totals that are not numbers below 10^10 left out).
WITH line_sums AS (
  SELECT transaction_id, count(*) AS items,
         (sum(CASE WHEN abs(line_total) < 1e10 THEN (line_total * 100)::bigint END) / 100.0)::numeric(14,2) AS lines_total
  FROM staging.transaction_items
  GROUP BY transaction_id
)
SELECT json_build_object(
    'transactions_total_amount', count(*) FILTER (
      WHERE t.ctid IS NOT NULL AND abs(t.total_amount - coalesce(s.lines_total, 0)) > $1::numeric),
    'transaction_items_orphan_transaction', coalesce(sum(s.items) FILTER (
      WHERE t.ctid IS NULL AND nullif(btrim(s.transaction_id), '') IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM production.transactions p
                        WHERE p.transaction_id = s.transaction_id AND p.business_date < $2::date)), 0)
  ) AS failing
FROM staging.transactions t
FULL JOIN line_sums s ON s.transaction_id = t.transaction_id;
