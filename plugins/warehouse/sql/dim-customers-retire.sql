-- Held versions of dirty customers that no wanted version matches, once every fact that referred
-- to them has been pointed at its new version (the foreign key would refuse otherwise).
DELETE FROM warehouse.dim_customers v
USING warehouse_customers_diff d
WHERE d.held AND NOT d.wanted AND v.customer_key = d.customer_key
