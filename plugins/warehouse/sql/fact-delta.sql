-- What the facts' changes do to the aggregates: each inserted or updated fact as it is now (+1),
-- each updated or deleted one as it was (-1). transaction_is_new: an inserted line of a
-- transaction created since the latest run (every line of such a transaction is new here, README
-- "What counts as new"), which agg_customer_metrics adds to a version's row instead of recounting
-- the version ($1 = the latest run's start).
CREATE TEMP TABLE warehouse_fact_delta ON COMMIT DROP AS
SELECT t.action, 1 AS sign, t.transaction_id, t.date_key, t.customer_key, t.product_key,
       t.quantity, t.line_total, t.profit, t.discount_percentage,
       t.action = 'insert' AND t.transaction_created_at >= $1::timestamptz AS transaction_is_new
FROM warehouse_fact_targets t
WHERE t.action IN ('insert', 'update')
UNION ALL
SELECT t.action, -1, t.old_transaction_id, t.old_date_key, t.old_customer_key, t.old_product_key,
       t.old_quantity, t.old_line_total, t.old_profit, t.old_discount_percentage, false
FROM warehouse_fact_targets t
WHERE t.action IN ('update', 'delete')
