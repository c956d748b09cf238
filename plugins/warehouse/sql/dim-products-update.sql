-- The versions kept by start date whose end, current flag or tracked attributes moved (a date
-- loaded late split or joined them, or corrected what they hold).
UPDATE warehouse.dim_products v
SET end_date = d.end_date,
    is_current = d.is_current,
    product_name = d.product_name, category = d.category, sub_category = d.sub_category, brand = d.brand, price_range = d.price_range
FROM warehouse_products_diff d
WHERE d.wanted AND d.held AND v.product_key = d.product_key
  AND (v.end_date, v.is_current, v.product_name, v.category, v.sub_category, v.brand, v.price_range)
      IS DISTINCT FROM (d.end_date, d.is_current, d.product_name, d.category, d.sub_category, d.brand, d.price_range)
