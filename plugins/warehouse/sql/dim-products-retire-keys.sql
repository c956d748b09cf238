-- The held versions of dirty products that no wanted version matches (dim-products-retire.sql).
SELECT coalesce(array_agg(d.product_key ORDER BY d.product_key), '{}') AS keys
FROM warehouse_products_diff d
WHERE d.held AND NOT d.wanted
