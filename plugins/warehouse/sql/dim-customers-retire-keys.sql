-- The held versions of dirty customers that no wanted version matches (dim-customers-retire.sql).
SELECT coalesce(array_agg(d.customer_key ORDER BY d.customer_key), '{}') AS keys
FROM warehouse_customers_diff d
WHERE d.held AND NOT d.wanted
