-- Brings the dirty customers' versions to the wanted ones (dim-customers-derive.sql) in an order that
-- keeps at most one current version per member at every statement: the held versions that stop
-- being current first (this file), then the new versions (dim-customers-open.sql), then the kept
-- ones' end dates and attributes (dim-customers-update.sql).
UPDATE warehouse.dim_customers v
SET is_current = false
FROM warehouse_customers_diff d
WHERE d.held AND d.held_current AND v.customer_key = d.customer_key AND NOT (d.wanted AND d.is_current)
