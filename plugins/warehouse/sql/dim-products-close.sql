-- Brings the dirty products' versions to the wanted ones (dim-products-derive.sql) in an order that
-- keeps at most one current version per member at every statement: the held versions that stop
-- being current first (this file), then the new versions (dim-products-open.sql), then the kept
-- ones' end dates and attributes (dim-products-update.sql).
-- Written as an upsert of rows that exist (the held versions, joined here), not UPDATE ... FROM:
-- on a Citus cluster the dimensions are reference tables, which an UPDATE joined to this
-- transaction's temporary tables cannot modify, while INSERT ... SELECT ... ON CONFLICT can; the
-- join makes every row a conflict, so nothing is inserted and plain PostgreSQL does the same work.
INSERT INTO warehouse.dim_products AS t (product_key, product_id, product_name, effective_date, end_date)
SELECT v.product_key, v.product_id, v.product_name, v.effective_date, v.end_date
FROM warehouse_products_diff d
JOIN warehouse.dim_products v ON v.product_key = d.product_key
WHERE d.held AND d.held_current AND NOT (d.wanted AND d.is_current)
ON CONFLICT (product_key) DO UPDATE SET is_current = false
