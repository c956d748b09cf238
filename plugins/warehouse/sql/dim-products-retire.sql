-- Held versions of dirty products that no wanted version matches, once every fact that referred
-- to them has been pointed at its new version (the foreign key would refuse otherwise).
DELETE FROM warehouse.dim_products v
USING warehouse_products_diff d
WHERE d.held AND NOT d.wanted AND v.product_key = d.product_key
