-- The versions kept by start date whose end, current flag or tracked attributes moved (a date
-- loaded late split or joined them, or corrected what they hold).
-- Written as an upsert of rows that exist (the held versions, joined here), not UPDATE ... FROM:
-- on a Citus cluster the dimensions are reference tables, which an UPDATE joined to this
-- transaction's temporary tables cannot modify, while INSERT ... SELECT ... ON CONFLICT can; the
-- join makes every row a conflict, so nothing is inserted and plain PostgreSQL does the same work.
INSERT INTO warehouse.dim_products AS t
  (product_key, product_id, effective_date, end_date, is_current, product_name, category, sub_category, brand, price_range)
SELECT v.product_key, v.product_id, v.effective_date, d.end_date, d.is_current,
       d.product_name, d.category, d.sub_category, d.brand, d.price_range
FROM warehouse_products_diff d
JOIN warehouse.dim_products v ON v.product_key = d.product_key
WHERE d.wanted AND d.held
  AND (v.end_date, v.is_current, v.product_name, v.category, v.sub_category, v.brand, v.price_range)
      IS DISTINCT FROM (d.end_date, d.is_current, d.product_name, d.category, d.sub_category, d.brand, d.price_range)
ON CONFLICT (product_key) DO UPDATE
SET end_date = excluded.end_date, is_current = excluded.is_current,
    product_name = excluded.product_name, category = excluded.category, sub_category = excluded.sub_category,
    brand = excluded.brand, price_range = excluded.price_range
