-- Places this business date's snapshot in each product's history (README, "Order of runs"),
-- whatever the order in which dates are loaded. A member's state on date X is its latest
-- 'present' or 'absent' row at or before X ('unobserved' rows carry the state on); a row is kept
-- only where the state changes. Loading date D (N: the next date production holds, if any):
--   * D's row: the snapshot's observation where it differs from the state before D
--     (etl_products_before), an 'unobserved' marker where D rejected every row of the
--     member, else none;
--   * N's row, so that N and every later date keep their state: dropped where N now says what D
--     says, added (with the state D used to leave) where N had none and D's state changed.
-- A redo of D replaces D's rows the same way. Members whose state changed go to
-- production.member_changes (the warehouse re-derives their versions from D on) and get their
-- production row refreshed (products-mirror-refresh.sql).
-- The members whose state this load can change: accepted and not unchanged against the state
-- before D (classification's action), staged but every row rejected, present before and not
-- staged, or holding a row at D (a redo) or at the next date (a date loaded late). A daily run
-- touches a few thousand of a hundred thousand members; kept apart and analysed, so that the
-- statement below reads only their rows, through the keys.
CREATE TEMP TABLE etl_products_members ON COMMIT DROP AS
SELECT product_id, bool_or(rejected_only) AS rejected_only
FROM (SELECT product_id, false AS rejected_only FROM etl_products WHERE reason IS NULL AND action <> 'unchanged'
      UNION ALL
      SELECT product_id, true FROM etl_products WHERE product_id IS NOT NULL GROUP BY product_id HAVING bool_and(reason IS NOT NULL)
      UNION ALL
      SELECT b.product_id, false FROM etl_products_before b
      WHERE b.observation = 'present' AND NOT EXISTS (SELECT 1 FROM etl_products c WHERE c.product_id = b.product_id)
      UNION ALL
      SELECT h.product_id, false FROM production.product_history h WHERE h.business_date = (SELECT run_date FROM etl_settings)
      UNION ALL
      SELECT h.product_id, false FROM production.product_history h WHERE h.business_date = (SELECT next_date FROM etl_settings)) m
GROUP BY product_id;
ALTER TABLE etl_products_members ADD PRIMARY KEY (product_id);
ANALYZE etl_products_members;

CREATE TEMP TABLE etl_products_states ON COMMIT DROP AS
WITH sides AS (
  SELECT m.product_id,
         CASE WHEN a.product_id IS NOT NULL THEN 'present' WHEN m.rejected_only THEN 'unobserved' ELSE 'absent' END AS observed,
         CASE WHEN b.observation = 'present' THEN 'present' ELSE 'absent' END AS before,
         d.observation AS d_observation,
         n.observation AS n_observation,
         a.product_name AS o_product_name,
         a.category AS o_category,
         a.sub_category AS o_sub_category,
         a.price AS o_price,
         a.cost AS o_cost,
         a.brand AS o_brand,
         a.stock_quantity AS o_stock_quantity,
         a.supplier_id AS o_supplier_id,
         a.profit_margin AS o_profit_margin,
         a.price_category AS o_price_category,
         b.product_name AS b_product_name,
         b.category AS b_category,
         b.sub_category AS b_sub_category,
         b.price AS b_price,
         b.cost AS b_cost,
         b.brand AS b_brand,
         b.stock_quantity AS b_stock_quantity,
         b.supplier_id AS b_supplier_id,
         b.profit_margin AS b_profit_margin,
         b.price_category AS b_price_category,
         d.product_name AS d_product_name,
         d.category AS d_category,
         d.sub_category AS d_sub_category,
         d.price AS d_price,
         d.cost AS d_cost,
         d.brand AS d_brand,
         d.stock_quantity AS d_stock_quantity,
         d.supplier_id AS d_supplier_id,
         d.profit_margin AS d_profit_margin,
         d.price_category AS d_price_category,
         n.product_name AS n_product_name,
         n.category AS n_category,
         n.sub_category AS n_sub_category,
         n.price AS n_price,
         n.cost AS n_cost,
         n.brand AS n_brand,
         n.stock_quantity AS n_stock_quantity,
         n.supplier_id AS n_supplier_id,
         n.profit_margin AS n_profit_margin,
         n.price_category AS n_price_category
  FROM etl_products_members m
  LEFT JOIN (SELECT * FROM etl_products WHERE reason IS NULL) a ON a.product_id = m.product_id
  LEFT JOIN etl_products_before b ON b.product_id = m.product_id
  LEFT JOIN production.product_history d
         ON d.product_id = m.product_id AND d.business_date = (SELECT run_date FROM etl_settings)
  LEFT JOIN production.product_history n
         ON n.product_id = m.product_id AND n.business_date = (SELECT next_date FROM etl_settings)
),
states AS (
  -- The state on D as loaded before (D's old row, else the state before D) and after this load
  -- (D's observation, else the state before D). Values count only where the state is 'present'.
  SELECT s.*,
         CASE WHEN s.d_observation IN ('present', 'absent') THEN s.d_observation ELSE s.before END AS old_kind,
         CASE WHEN s.observed IN ('present', 'absent') THEN s.observed ELSE s.before END AS new_kind,
         CASE WHEN s.d_observation = 'present' THEN s.d_product_name ELSE s.b_product_name END AS old_product_name,
         CASE WHEN s.d_observation = 'present' THEN s.d_category ELSE s.b_category END AS old_category,
         CASE WHEN s.d_observation = 'present' THEN s.d_sub_category ELSE s.b_sub_category END AS old_sub_category,
         CASE WHEN s.d_observation = 'present' THEN s.d_price ELSE s.b_price END AS old_price,
         CASE WHEN s.d_observation = 'present' THEN s.d_cost ELSE s.b_cost END AS old_cost,
         CASE WHEN s.d_observation = 'present' THEN s.d_brand ELSE s.b_brand END AS old_brand,
         CASE WHEN s.d_observation = 'present' THEN s.d_stock_quantity ELSE s.b_stock_quantity END AS old_stock_quantity,
         CASE WHEN s.d_observation = 'present' THEN s.d_supplier_id ELSE s.b_supplier_id END AS old_supplier_id,
         CASE WHEN s.d_observation = 'present' THEN s.d_profit_margin ELSE s.b_profit_margin END AS old_profit_margin,
         CASE WHEN s.d_observation = 'present' THEN s.d_price_category ELSE s.b_price_category END AS old_price_category,
         CASE WHEN s.observed = 'present' THEN s.o_product_name ELSE s.b_product_name END AS new_product_name,
         CASE WHEN s.observed = 'present' THEN s.o_category ELSE s.b_category END AS new_category,
         CASE WHEN s.observed = 'present' THEN s.o_sub_category ELSE s.b_sub_category END AS new_sub_category,
         CASE WHEN s.observed = 'present' THEN s.o_price ELSE s.b_price END AS new_price,
         CASE WHEN s.observed = 'present' THEN s.o_cost ELSE s.b_cost END AS new_cost,
         CASE WHEN s.observed = 'present' THEN s.o_brand ELSE s.b_brand END AS new_brand,
         CASE WHEN s.observed = 'present' THEN s.o_stock_quantity ELSE s.b_stock_quantity END AS new_stock_quantity,
         CASE WHEN s.observed = 'present' THEN s.o_supplier_id ELSE s.b_supplier_id END AS new_supplier_id,
         CASE WHEN s.observed = 'present' THEN s.o_profit_margin ELSE s.b_profit_margin END AS new_profit_margin,
         CASE WHEN s.observed = 'present' THEN s.o_price_category ELSE s.b_price_category END AS new_price_category
  FROM sides s
),
decided AS (
  SELECT s.*,
         CASE WHEN s.observed = 'unobserved' THEN 'unobserved'
              WHEN s.observed <> s.before THEN s.observed
              WHEN s.observed = 'present' AND (s.o_product_name, s.o_category, s.o_sub_category, s.o_price, s.o_cost, s.o_brand, s.o_stock_quantity, s.o_supplier_id, s.o_profit_margin, s.o_price_category) IS DISTINCT FROM (s.b_product_name, s.b_category, s.b_sub_category, s.b_price, s.b_cost, s.b_brand, s.b_stock_quantity, s.b_supplier_id, s.b_profit_margin, s.b_price_category) THEN 'present'
         END AS new_observation,
         s.old_kind <> s.new_kind
           OR (s.new_kind = 'present' AND (s.old_product_name, s.old_category, s.old_sub_category, s.old_price, s.old_cost, s.old_brand, s.old_stock_quantity, s.old_supplier_id, s.old_profit_margin, s.old_price_category) IS DISTINCT FROM (s.new_product_name, s.new_category, s.new_sub_category, s.new_price, s.new_cost, s.new_brand, s.new_stock_quantity, s.new_supplier_id, s.new_profit_margin, s.new_price_category)) AS changed
  FROM states s
)
SELECT s.*,
       s.d_observation IS DISTINCT FROM s.new_observation
         OR (s.new_observation = 'present' AND (s.d_product_name, s.d_category, s.d_sub_category, s.d_price, s.d_cost, s.d_brand, s.d_stock_quantity, s.d_supplier_id, s.d_profit_margin, s.d_price_category) IS DISTINCT FROM (s.o_product_name, s.o_category, s.o_sub_category, s.o_price, s.o_cost, s.o_brand, s.o_stock_quantity, s.o_supplier_id, s.o_profit_margin, s.o_price_category)) AS rewrite_d,
       CASE
         WHEN st.next_date IS NULL THEN NULL
         WHEN s.n_observation IN ('present', 'absent') AND s.n_observation = s.new_kind
              AND (s.new_kind = 'absent' OR (s.n_product_name, s.n_category, s.n_sub_category, s.n_price, s.n_cost, s.n_brand, s.n_stock_quantity, s.n_supplier_id, s.n_profit_margin, s.n_price_category) IS NOT DISTINCT FROM (s.new_product_name, s.new_category, s.new_sub_category, s.new_price, s.new_cost, s.new_brand, s.new_stock_quantity, s.new_supplier_id, s.new_profit_margin, s.new_price_category)) THEN 'delete'
         WHEN s.n_observation IS NULL AND s.changed THEN 'insert'
       END AS next_action
FROM decided s
CROSS JOIN etl_settings st;

-- N's row first (it may copy D's old row, which the next statements replace).
INSERT INTO production.product_history (product_id, business_date, observation, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id, profit_margin, price_category)
SELECT s.product_id, st.next_date, s.old_kind,
       CASE WHEN s.old_kind = 'present' THEN s.old_product_name END, CASE WHEN s.old_kind = 'present' THEN s.old_category END, CASE WHEN s.old_kind = 'present' THEN s.old_sub_category END, CASE WHEN s.old_kind = 'present' THEN s.old_price END, CASE WHEN s.old_kind = 'present' THEN s.old_cost END, CASE WHEN s.old_kind = 'present' THEN s.old_brand END, CASE WHEN s.old_kind = 'present' THEN s.old_stock_quantity END, CASE WHEN s.old_kind = 'present' THEN s.old_supplier_id END, CASE WHEN s.old_kind = 'present' THEN s.old_profit_margin END, CASE WHEN s.old_kind = 'present' THEN s.old_price_category END
FROM etl_products_states s
CROSS JOIN etl_settings st
WHERE s.next_action = 'insert';

DELETE FROM production.product_history h
USING etl_products_states s, etl_settings st
WHERE s.next_action = 'delete' AND h.product_id = s.product_id AND h.business_date = st.next_date;

DELETE FROM production.product_history h
USING etl_products_states s, etl_settings st
WHERE s.rewrite_d AND h.product_id = s.product_id AND h.business_date = st.run_date;

INSERT INTO production.product_history (product_id, business_date, observation, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id, profit_margin, price_category)
SELECT s.product_id, st.run_date, s.new_observation,
       CASE WHEN s.new_observation = 'present' THEN s.o_product_name END, CASE WHEN s.new_observation = 'present' THEN s.o_category END, CASE WHEN s.new_observation = 'present' THEN s.o_sub_category END, CASE WHEN s.new_observation = 'present' THEN s.o_price END, CASE WHEN s.new_observation = 'present' THEN s.o_cost END, CASE WHEN s.new_observation = 'present' THEN s.o_brand END, CASE WHEN s.new_observation = 'present' THEN s.o_stock_quantity END, CASE WHEN s.new_observation = 'present' THEN s.o_supplier_id END, CASE WHEN s.new_observation = 'present' THEN s.o_profit_margin END, CASE WHEN s.new_observation = 'present' THEN s.o_price_category END
FROM etl_products_states s
CROSS JOIN etl_settings st
WHERE s.rewrite_d AND s.new_observation IS NOT NULL;

INSERT INTO production.member_changes (dimension, member_id, from_date, run_id)
SELECT 'products', s.product_id, st.run_date, st.run_id
FROM etl_products_states s
CROSS JOIN etl_settings st
WHERE s.changed;
