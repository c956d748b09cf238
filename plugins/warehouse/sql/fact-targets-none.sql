-- A first load reads every production item straight into fact_sales (fact-sales-insert-first-load.sql):
-- no target list, but the lookup statements name these tables.
CREATE TEMP TABLE warehouse_target_sales (customer_id text, product_id text) ON COMMIT DROP;
