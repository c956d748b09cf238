-- Cleanses staging.transactions into etl_transactions. A transaction belongs to the earliest
-- business date whose input holds it (production.transactions.business_date, its owner), so the
-- action depends on who owns it now (README, "Facts by business date"):
--   insert          not in production;
--   present         owned by this date, or by an earlier one, with the same values;
--   correct         owned by this date with other values (the date's input was corrected);
--   ignored_change  owned by an earlier date with other values: that date's values stand;
--   take_over       owned by a later date: it belongs to this one from now on, with its values.
-- Its customer must be accepted in this load or known before this business date (a 'present'
-- history row before run_date; members that left count: facts of a removed customer still load).
CREATE TEMP TABLE etl_transactions ON COMMIT DROP AS
SELECT
  c.src, c.loaded_at, c.transaction_id, c.customer_id, c.transaction_date, c.transaction_time, c.payment_method,
  c.shipping_address, c.total_amount, p.business_date AS owner_date,
  CASE
    WHEN c.transaction_id IS NULL OR c.customer_id IS NULL OR c.transaction_date IS NULL OR c.payment_method IS NULL OR c.total_amount IS NULL
      THEN 'missing_field'
    -- As for products (classify-products.sql).
    WHEN abs(c.total_amount) >= 1e10 THEN 'non_finite_number'
    WHEN min_scale(c.total_amount) > 2 THEN 'more_than_two_decimals'
    -- -infinity, infinity, before the warehouse's first versions or beyond its calendar: loaded,
    -- the warehouse could never place the sale, and facts are never removed.
    WHEN c.transaction_date < st.earliest_date OR c.transaction_date > st.latest_date THEN 'implausible_date'
    WHEN c.total_amount < 0 THEN 'negative_total'
    WHEN NOT c.customer_known THEN 'orphan_customer'
  END AS reason,
  CASE
    WHEN p.transaction_id IS NULL THEN 'insert'
    WHEN p.business_date > st.run_date THEN 'take_over'
    -- total_amount is reconciled in production; the staged total is kept as source_total_amount.
    WHEN (p.customer_id, p.transaction_date, p.transaction_time, p.payment_method, p.shipping_address, p.source_total_amount)
      IS NOT DISTINCT FROM (c.customer_id, c.transaction_date, c.transaction_time, c.payment_method, c.shipping_address, c.total_amount)
      THEN 'present'
    WHEN p.business_date = st.run_date THEN 'correct'
    ELSE 'ignored_change'
  END AS action
FROM (
  SELECT
    t.*,
    -- History is probed (by primary key) only for ids not accepted now.
    CASE WHEN accepted.customer_id IS NOT NULL THEN true
         ELSE EXISTS (SELECT 1 FROM production.customer_history k, etl_settings st
                      WHERE k.customer_id = t.customer_id AND k.business_date < st.run_date AND k.observation = 'present') END AS customer_known
  FROM (
    SELECT
      s.ctid AS src,
      s.loaded_at,
      NULLIF(btrim(s.transaction_id), '') AS transaction_id,
      NULLIF(btrim(s.customer_id), '') AS customer_id,
      s.transaction_date,
      s.transaction_time,
      NULLIF(btrim(s.payment_method), '') AS payment_method,
      NULLIF(btrim(s.shipping_address), '') AS shipping_address,
      s.total_amount
    FROM staging.transactions s
    -- OFFSET 0 keeps each cleansed value computed once per row instead of once per reference.
    OFFSET 0
  ) t
  LEFT JOIN (SELECT customer_id FROM etl_customers WHERE reason IS NULL) accepted ON accepted.customer_id = t.customer_id
  OFFSET 0
) c
CROSS JOIN etl_settings st
LEFT JOIN production.transactions p ON p.transaction_id = c.transaction_id;

ANALYZE etl_transactions (transaction_id, customer_id, reason, action);

-- Duplicate ids: the same rule as for customers (latest load, then raw row text in byte order).
-- Candidates by a sorted 64-bit hash of the id, confirmed by the ranking's partition by the id
-- itself, as for items (see classify-transaction-items.sql for why). At 1M transactions (exp1m,
-- 5 runs each, rolled back): 0.76-0.99 s -> 0.50-0.71 s without duplicates, 1.7-2.5 s -> 1.2-1.9 s
-- with 3.5k; no difference at 100k.
UPDATE etl_transactions e SET reason = 'duplicate_id'
FROM (
  SELECT d.src,
         row_number() OVER (
           PARTITION BY d.transaction_id
           -- Fetched by ctid for the duplicated rows only (a join would hash the whole staging table).
           ORDER BY d.loaded_at DESC, (SELECT to_jsonb(s)::text FROM staging.transactions s WHERE s.ctid = d.src) COLLATE "C"
         ) AS position
  FROM etl_transactions d
  WHERE d.reason IS NULL
    AND hashtextextended(d.transaction_id, 0) IN (
      SELECT h
      FROM (SELECT hashtextextended(transaction_id, 0) AS h FROM etl_transactions WHERE reason IS NULL ORDER BY h) sorted
      GROUP BY h
      HAVING count(*) > 1)
) ranked
WHERE ranked.src = e.src AND ranked.position > 1;
