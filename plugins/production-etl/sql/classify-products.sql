-- Cleanses staging.products into etl_products with the business rules' derived columns, a reject
-- reason per row (NULL = accepted) and the action loading it takes on production.
CREATE TEMP TABLE etl_products ON COMMIT DROP AS
WITH cleansed AS (
  SELECT
    s.ctid AS src,
    s.loaded_at,
    NULLIF(btrim(s.product_id), '') AS product_id,
    NULLIF(btrim(s.product_name), '') AS product_name,
    NULLIF(btrim(s.category), '') AS category,
    NULLIF(btrim(s.sub_category), '') AS sub_category,
    s.price,
    s.cost,
    NULLIF(btrim(s.brand), '') AS brand,
    -- An unknown stock level is stocked as none (production's default).
    coalesce(s.stock_quantity, 0) AS stock_quantity,
    NULLIF(btrim(s.supplier_id), '') AS supplier_id,
    (s.product_id <> btrim(s.product_id) OR s.product_name <> btrim(s.product_name) OR s.category <> btrim(s.category)
      OR s.sub_category <> btrim(s.sub_category) OR s.brand <> btrim(s.brand) OR s.supplier_id <> btrim(s.supplier_id)) IS TRUE AS text_trimmed,
    (btrim(s.sub_category) = '' OR btrim(s.brand) = '' OR btrim(s.supplier_id) = '') IS TRUE AS empty_to_null
  FROM staging.products s
  -- OFFSET 0 keeps each cleansed value computed once per row instead of once per reference
  -- (the change test below would otherwise recompute them for every row production holds).
  OFFSET 0
),
derived AS (
  SELECT
    c.*,
    CASE WHEN c.price > 0 AND c.cost >= 0 AND c.cost < c.price THEN round((c.price - c.cost) / c.price * 100, 2) END AS profit_margin,
    CASE
      WHEN c.price < st.budget_max THEN 'Budget'
      WHEN c.price < st.mid_max THEN 'Mid-range'
      ELSE 'Premium'
    END AS price_category,
    CASE
      WHEN c.product_id IS NULL OR c.product_name IS NULL OR c.category IS NULL OR c.price IS NULL OR c.cost IS NULL THEN 'missing_field'
      -- Before the range rules: NaN compares above every number, so it would pass them. abs() of
      -- NaN and of either infinity is not below 10^10 either; production's numeric(12,2) holds
      -- none of them, and would round a third decimal.
      WHEN abs(c.price) >= 1e10 OR abs(c.cost) >= 1e10 THEN 'non_finite_number'
      WHEN min_scale(c.price) > 2 OR min_scale(c.cost) > 2 THEN 'more_than_two_decimals'
      WHEN c.price <= 0 THEN 'non_positive_price'
      WHEN c.cost < 0 THEN 'negative_cost'
      WHEN c.cost >= c.price THEN 'cost_not_below_price'
      WHEN c.stock_quantity < 0 THEN 'negative_stock'
    END AS reason
  FROM cleansed c
  CROSS JOIN etl_settings st
  OFFSET 0
)
SELECT
  d.*,
  -- Against the member's state before this business date (history-before.sql), as for customers.
  CASE
    WHEN p.product_id IS NULL THEN 'insert'
    WHEN p.observation = 'absent' THEN 'reactivate'
    WHEN (p.product_name, p.category, p.sub_category, p.price, p.cost, p.brand, p.stock_quantity, p.supplier_id, p.profit_margin, p.price_category)
      IS DISTINCT FROM (d.product_name, d.category, d.sub_category, d.price, d.cost, d.brand, d.stock_quantity, d.supplier_id, d.profit_margin, d.price_category)
      THEN 'update'
    ELSE 'unchanged'
  END AS action
FROM derived d
LEFT JOIN etl_products_before p ON p.product_id = d.product_id;

-- Only the columns later statements join, group or filter on (see classify-customers.sql).
ANALYZE etl_products (product_id, reason, action);

-- Duplicate ids: the same rule as for customers (latest load, then raw row text in byte order).
UPDATE etl_products e SET reason = 'duplicate_id'
FROM (
  SELECT d.src,
         row_number() OVER (
           PARTITION BY d.product_id
           -- Fetched by ctid for the duplicated rows only (a join would hash the whole staging table).
           ORDER BY d.loaded_at DESC, (SELECT to_jsonb(s)::text FROM staging.products s WHERE s.ctid = d.src) COLLATE "C"
         ) AS position
  FROM etl_products d
  WHERE d.reason IS NULL
    AND d.product_id IN (SELECT product_id FROM etl_products WHERE reason IS NULL GROUP BY product_id HAVING count(*) > 1)
) ranked
WHERE ranked.src = e.src AND ranked.position > 1;
