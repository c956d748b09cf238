-- Cleanses staging.transaction_items into etl_transaction_items and verifies line_total against
-- quantity x unit_price x (1 - discount/100): beyond the tolerance (or missing) it is recomputed.
-- An item needs its transaction accepted in this load or loaded from an earlier business date
-- (so items of a rejected transaction are rejected too), and its product accepted or known before
-- this business date (a 'present' history row before run_date; a product absent from this day's
-- file is still a valid reference, as the quality gate counts it). Actions by owner, as for
-- transactions (classify-transactions.sql).
CREATE TEMP TABLE etl_transaction_items ON COMMIT DROP AS
SELECT
  v.src, v.loaded_at, v.item_id, v.transaction_id, v.product_id, v.quantity, v.unit_price, v.discount_percentage,
  v.line_total, v.line_total_corrected, v.product_known, p.business_date AS owner_date,
  CASE
    WHEN v.item_id IS NULL OR v.transaction_id IS NULL OR v.product_id IS NULL OR v.quantity IS NULL OR v.unit_price IS NULL
      THEN 'missing_field'
    -- As for products (classify-products.sql), and the gross amount quantity x unit_price too,
    -- which the warehouse splits into line_total and discount_amount. This statement reads every
    -- staged item, so the tests are ordered to cost little on sound rows: a NaN or an infinity in
    -- unit_price, discount or line_total makes the recomputed line total differ from the staged
    -- one, so only corrected lines are tested for them; the product is computed only where it can
    -- reach 10^10 (a price of 10^6 or a quantity of 10^4 at least). At 900k items, 60 ms instead
    -- of 140 ms of CPU. A line_total with more than two decimals is not rejected: it differs from
    -- the recomputed value, which replaces it and is counted. scale() before min_scale(): cheaper,
    -- and only a value written with more than two decimals can have more than two.
    WHEN (v.line_total_corrected
          AND (abs(v.unit_price) >= 1e10 OR abs(v.discount_percentage) >= 1e10 OR abs(v.staged_line_total) >= 1e10))
      OR ((v.unit_price >= 1e6 OR v.quantity >= 10000) AND v.quantity * v.unit_price >= 1e10) THEN 'non_finite_number'
    WHEN (scale(v.unit_price) > 2 AND min_scale(v.unit_price) > 2)
      OR (scale(v.discount_percentage) > 2 AND min_scale(v.discount_percentage) > 2) THEN 'more_than_two_decimals'
    WHEN v.quantity <= 0 THEN 'non_positive_quantity'
    WHEN v.unit_price <= 0 THEN 'non_positive_price'
    WHEN v.discount_percentage < 0 OR v.discount_percentage > 100 THEN 'discount_out_of_range'
    WHEN NOT v.transaction_known THEN 'orphan_transaction'
    WHEN NOT v.product_known THEN 'orphan_product'
  END AS reason,
  CASE
    WHEN p.item_id IS NULL THEN 'insert'
    WHEN p.business_date > v.run_date THEN 'take_over'
    WHEN (p.transaction_id, p.product_id, p.quantity, p.unit_price, p.discount_percentage, p.line_total)
      IS NOT DISTINCT FROM (v.transaction_id, v.product_id, v.quantity, v.unit_price, v.discount_percentage, v.line_total)
      THEN 'present'
    WHEN p.business_date = v.run_date THEN 'correct'
    ELSE 'ignored_change'
  END AS action
FROM (
  SELECT
    c.*,
    CASE WHEN c.line_total_corrected THEN c.expected_line_total ELSE c.staged_line_total END AS line_total
  FROM (
    SELECT
      c.*,
      st.run_date,
      -- A negative staged value within the tolerance of zero is corrected too (line_total >= 0 holds).
      (c.staged_line_total IS NULL OR c.staged_line_total < 0
        OR abs(c.staged_line_total - c.expected_line_total) > st.line_total_tolerance) IS TRUE AS line_total_corrected,
      -- A transaction accepted in this load; one loaded before is found after this statement.
      accepted_txn.transaction_id IS NOT NULL AS transaction_known,
      CASE WHEN accepted_product.product_id IS NOT NULL THEN true
           ELSE EXISTS (SELECT 1 FROM production.product_history k
                        WHERE k.product_id = c.product_id AND k.business_date < st.run_date AND k.observation = 'present') END AS product_known
    FROM (
      SELECT
        s.ctid AS src,
        s.loaded_at,
        NULLIF(btrim(s.item_id), '') AS item_id,
        NULLIF(btrim(s.transaction_id), '') AS transaction_id,
        NULLIF(btrim(s.product_id), '') AS product_id,
        s.quantity,
        s.unit_price,
        coalesce(s.discount_percentage, 0) AS discount_percentage,
        s.line_total AS staged_line_total,
        round(s.quantity * s.unit_price * (1 - coalesce(s.discount_percentage, 0) / 100), 2) AS expected_line_total
      FROM staging.transaction_items s
      -- OFFSET 0 keeps each cleansed value computed once per row instead of once per reference.
      OFFSET 0
    ) c
    CROSS JOIN etl_settings st
    LEFT JOIN (SELECT transaction_id FROM etl_transactions WHERE reason IS NULL) accepted_txn ON accepted_txn.transaction_id = c.transaction_id
    LEFT JOIN (SELECT product_id FROM etl_products WHERE reason IS NULL) accepted_product ON accepted_product.product_id = c.product_id
    OFFSET 0
  ) c
  OFFSET 0
) v
LEFT JOIN production.transaction_items p ON p.item_id = v.item_id;

-- The lines whose transaction is not in this load are orphans unless it was loaded from an
-- earlier business date (a late line): those few ids are looked up in production once, as a set.
-- Not a probe per staged line inside the statement above: on Citus production.transactions is
-- distributed, and a subquery correlated with local rows is refused there (docs/operations.md,
-- "Beyond one machine"). 'orphan_transaction' is the last reason but one, so such a line has no
-- earlier one; it keeps the last, an unknown product.
UPDATE etl_transaction_items e
SET reason = CASE WHEN e.product_known THEN NULL ELSE 'orphan_product' END
FROM (SELECT k.transaction_id
      FROM production.transactions k
      WHERE k.business_date < (SELECT run_date FROM etl_settings)
        AND k.transaction_id IN (SELECT transaction_id FROM etl_transaction_items WHERE reason = 'orphan_transaction')
      OFFSET 0) loaded_before
WHERE e.reason = 'orphan_transaction' AND e.transaction_id = loaded_before.transaction_id;

-- Only the columns later statements join, group or filter on: sampling every column costs more.
ANALYZE etl_transaction_items (item_id, transaction_id, reason, action);

-- Duplicate ids: the same rule as for customers (latest load, then raw row text in byte order).
-- Candidate ids are those whose 64-bit hash occurs more than once, found by sorting the hashes
-- (the ORDER BY in the subquery lets the planner group the sorted input instead of hashing it);
-- the ranking then partitions by the id itself, so two different ids that share a hash each rank
-- first in their own partition and neither is marked.
-- Why: GROUP BY item_id builds a hash table of every distinct id. At 1M transactions (3M items,
-- exp1m, 256 MB work_mem, 5 runs each in a rolled-back transaction) this statement took 2.7-3.7 s
-- with no duplicates (424 MB hash aggregate), 1.6-1.9 s sorting the hashes (98 MB); with 33k
-- duplicated items 5.9-9.2 s -> 4.0-5.2 s; at 300k items 198-215 -> 135-194 ms. Hashing the int8
-- hashes instead of sorting them was no cheaper (3.1 s, 328 MB), nor was SET LOCAL
-- enable_hashagg = off (2.2-3.0 s: the join back to the rows then sorted the whole table).
UPDATE etl_transaction_items e SET reason = 'duplicate_id'
FROM (
  SELECT d.src,
         row_number() OVER (
           PARTITION BY d.item_id
           -- Fetched by ctid for the duplicated rows only (a join would hash the whole staging table).
           ORDER BY d.loaded_at DESC, (SELECT to_jsonb(s)::text FROM staging.transaction_items s WHERE s.ctid = d.src) COLLATE "C"
         ) AS position
  FROM etl_transaction_items d
  WHERE d.reason IS NULL
    AND hashtextextended(d.item_id, 0) IN (
      SELECT h
      FROM (SELECT hashtextextended(item_id, 0) AS h FROM etl_transaction_items WHERE reason IS NULL ORDER BY h) sorted
      GROUP BY h
      HAVING count(*) > 1)
) ranked
WHERE ranked.src = e.src AND ranked.position > 1;

-- The total each new transaction must carry: the sum of the items loaded with it (per transaction
-- id, new or not, so reconciliation can also count items added to an already loaded transaction).
-- The sum is taken in whole cents (line_total has two decimals, so exactly): a bigint sum's state
-- is a fraction of a numeric sum's, and this aggregate over every new transaction id spilled to
-- disk at 300k transactions with 64MB of work_mem (131 MB -> 74 MB of hash table).
CREATE TEMP TABLE etl_transaction_totals ON COMMIT DROP AS
SELECT i.transaction_id,
       sum((i.line_total * 100)::bigint) * 0.01 AS items_total,
       count(*) AS item_count,
       count(*) FILTER (WHERE i.line_total_corrected) AS corrected_line_count
FROM etl_transaction_items i
WHERE i.reason IS NULL AND i.action = 'insert'
GROUP BY i.transaction_id;

ANALYZE etl_transaction_totals;
