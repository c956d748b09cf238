-- Brings the dirty products' versions to the wanted ones (dim-products-derive.sql) in an order that
-- keeps at most one current version per member at every statement: the held versions that stop
-- being current first (this file), then the new versions (dim-products-open.sql), then the kept
-- ones' end dates and attributes (dim-products-update.sql).
UPDATE warehouse.dim_products v
SET is_current = false
FROM warehouse_products_diff d
WHERE d.held AND d.held_current AND v.product_key = d.product_key AND NOT (d.wanted AND d.is_current)
