-- The members whose versions this run derives again, and from which business date on: those
-- whose history production-etl changed since (production.member_changes, its inbox for this
-- stage; the rows read here are deleted at the end of the run), or every member of the history
-- when the warehouse holds no version of that dimension (a first load; $1 = true on a first load).
CREATE TEMP TABLE warehouse_dirty_members ON COMMIT DROP AS
SELECT dimension, member_id, min(from_date) AS from_date
FROM (SELECT dimension, member_id, from_date FROM production.member_changes
      UNION ALL
      SELECT 'customers', customer_id, DATE '-infinity'
      FROM production.customer_history
      WHERE $1::boolean OR NOT EXISTS (SELECT 1 FROM warehouse.dim_customers)
      UNION ALL
      SELECT 'products', product_id, DATE '-infinity'
      FROM production.product_history
      WHERE $1::boolean OR NOT EXISTS (SELECT 1 FROM warehouse.dim_products)) changes
GROUP BY dimension, member_id
