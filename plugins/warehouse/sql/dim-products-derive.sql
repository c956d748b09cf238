-- The versions each dirty product (warehouse_dirty_members) should have, derived from its
-- history by business date (production.product_history) and nothing else, so that any order of
-- runs gives the versions an in-order load gives (README, "SCD type 2 rules"):
--   * a version starts where the member is present after being absent (or never seen), or where
--     a tracked attribute changes; it ends where the next one starts or the member is absent;
--   * the member's first version is effective from 1900-01-01, so that it covers every sale of it,
--     however old; the others from the business date of the change; the open one ends 9999-12-31;
--   * 'unobserved' rows (the date staged the member but rejected it) carry the state on.
CREATE TEMP TABLE warehouse_products_wanted ON COMMIT DROP AS
WITH observations AS (
  SELECT h.product_id,
         h.business_date,
         h.observation,
         h.product_name AS product_name,
         h.category AS category,
         h.sub_category AS sub_category,
         h.brand AS brand,
         h.price_category AS price_range,
         row_number() OVER w AS position,
         lag(h.observation) OVER w AS prev_observation,
         lag(h.product_name) OVER w AS prev_product_name,
         lag(h.category) OVER w AS prev_category,
         lag(h.sub_category) OVER w AS prev_sub_category,
         lag(h.brand) OVER w AS prev_brand,
         lag(h.price_category) OVER w AS prev_price_range
  FROM production.product_history h
  JOIN warehouse_dirty_members m ON m.dimension = 'products' AND m.member_id = h.product_id
  WHERE h.observation <> 'unobserved'
  WINDOW w AS (PARTITION BY h.product_id ORDER BY h.business_date)
),
boundaries AS (
  SELECT o.*
  FROM observations o
  WHERE o.observation = 'absent'
     OR o.prev_observation IS DISTINCT FROM 'present'
     OR (o.product_name, o.category, o.sub_category, o.brand, o.price_range) IS DISTINCT FROM (o.prev_product_name, o.prev_category, o.prev_sub_category, o.prev_brand, o.prev_price_range)
),
spans AS (
  SELECT b.*, lead(b.business_date) OVER (PARTITION BY b.product_id ORDER BY b.business_date) AS next_boundary
  FROM boundaries b
)
SELECT product_id,
       CASE WHEN position = 1 THEN DATE '1900-01-01' ELSE business_date END AS effective_date,
       coalesce(next_boundary, DATE '9999-12-31') AS end_date,
       next_boundary IS NULL AS is_current,
       product_name, category, sub_category, brand, price_range
FROM spans
WHERE observation = 'present';
ANALYZE warehouse_products_wanted;

-- The dirty members' versions as the warehouse holds them, matched with the wanted ones by start
-- date: a match keeps its surrogate key (its end, attributes and is_current follow the wanted
-- version), a wanted version without one is opened, a held one without one is retired once no
-- fact refers to it any more (dim-retire-versions.sql).
CREATE TEMP TABLE warehouse_products_diff ON COMMIT DROP AS
SELECT coalesce(w.product_id, v.product_id) AS product_id,
       v.product_key,
       w.effective_date IS NOT NULL AS wanted,
       v.product_key IS NOT NULL AS held,
       v.is_current AS held_current,
       w.effective_date, w.end_date, w.is_current,
       w.product_name, w.category, w.sub_category, w.brand, w.price_range
FROM warehouse_products_wanted w
FULL JOIN (SELECT v.*
           FROM warehouse.dim_products v
           JOIN warehouse_dirty_members m ON m.dimension = 'products' AND m.member_id = v.product_id) v
  ON v.product_id = w.product_id AND v.effective_date = w.effective_date;
ANALYZE warehouse_products_diff;
