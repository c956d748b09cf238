-- referential integrity: rows of staging.transaction_items whose transaction_id is neither a
-- transaction_id of staging.transactions nor a transaction loaded from a business date before the
-- run's ($2): a late line of an earlier day's transaction is valid, as production-etl counts it.
-- NULL or blank keys are the completeness check's. The lines without a staged transaction are
-- looked up in production once, as a set (see profile_transaction_sums.sql: Citus refuses a probe
-- of a distributed table correlated with staging rows).
WITH unstaged AS MATERIALIZED (
  SELECT r.*
  FROM staging.transaction_items r
  WHERE nullif(btrim(r.transaction_id), '') IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM staging.transactions p WHERE p.transaction_id = r.transaction_id)
), loaded_before AS (
  SELECT t.transaction_id
  FROM production.transactions t
  WHERE t.business_date < $2::date
    AND t.transaction_id IN (SELECT u.transaction_id FROM unstaged u)
)
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_orphan_transaction',
       format('transaction_id %s not in staging.transactions nor loaded before %s', r.transaction_id, $2::date), to_jsonb(r)
FROM unstaged r
WHERE r.transaction_id NOT IN (SELECT k.transaction_id FROM loaded_before k);
