-- The production row of each product whose history this load changed (product-history-write.sql):
-- its state on the latest business date production holds, which is what production mirrors.
-- A member present then has its values from that row; one that left keeps the values of its
-- latest 'present' row, with is_active = false and removed_at = the date it was first missing.
-- Only rows whose values differ are written, so updated_at moves on a real change only.
WITH changed AS (
  SELECT product_id FROM etl_products_states WHERE changed
),
latest AS (
  SELECT DISTINCT ON (h.product_id) h.product_id, h.observation, h.business_date
  FROM production.product_history h
  JOIN changed USING (product_id)
  WHERE h.observation <> 'unobserved'
  ORDER BY h.product_id, h.business_date DESC
),
last_present AS (
  SELECT DISTINCT ON (h.product_id) h.*
  FROM production.product_history h
  JOIN changed USING (product_id)
  WHERE h.observation = 'present'
  ORDER BY h.product_id, h.business_date DESC
)
INSERT INTO production.products AS p (product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id, profit_margin, price_category, is_active, removed_at)
SELECT v.product_id, v.product_name, v.category, v.sub_category, v.price, v.cost, v.brand, v.stock_quantity, v.supplier_id, v.profit_margin, v.price_category,
       l.observation = 'present',
       CASE WHEN l.observation = 'absent' THEN (l.business_date)::timestamp AT TIME ZONE 'UTC' END
FROM last_present v
JOIN latest l ON l.product_id = v.product_id
ON CONFLICT (product_id) DO UPDATE
SET product_name = excluded.product_name, category = excluded.category, sub_category = excluded.sub_category, price = excluded.price, cost = excluded.cost, brand = excluded.brand, stock_quantity = excluded.stock_quantity, supplier_id = excluded.supplier_id, profit_margin = excluded.profit_margin, price_category = excluded.price_category,
    is_active = excluded.is_active,
    removed_at = excluded.removed_at,
    updated_at = now()
WHERE (p.product_name, p.category, p.sub_category, p.price, p.cost, p.brand, p.stock_quantity, p.supplier_id, p.profit_margin, p.price_category, p.is_active, p.removed_at)
      IS DISTINCT FROM (excluded.product_name, excluded.category, excluded.sub_category, excluded.price, excluded.cost, excluded.brand, excluded.stock_quantity, excluded.supplier_id, excluded.profit_margin, excluded.price_category, excluded.is_active, excluded.removed_at);

-- A member whose every 'present' row a redo removed (it was in no other date's snapshot) stays,
-- since facts may refer to it, but as one that left on this date.
UPDATE production.products p
SET is_active = false, removed_at = st.removed_at, updated_at = now()
FROM etl_products_states s
CROSS JOIN etl_settings st
WHERE s.changed AND p.product_id = s.product_id AND p.is_active
  AND NOT EXISTS (SELECT 1 FROM production.product_history h WHERE h.product_id = s.product_id AND h.observation = 'present');
