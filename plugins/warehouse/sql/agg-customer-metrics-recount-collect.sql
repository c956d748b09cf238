-- The customer versions that a new line of an older transaction touches: one created before the
-- latest run that added facts ($1), so that some of its lines may be facts already and adding
-- its new lines would count it twice. They are recounted from all their facts
-- (agg-customer-metrics-recount-delete.sql, agg-customer-metrics-recount-insert.sql). Usually
-- none: a daily run's transactions are new, and every line of a transaction created since $1 is
-- new here (README, "What counts as new").
CREATE TEMP TABLE warehouse_recount_customers ON COMMIT DROP AS
SELECT DISTINCT n.customer_key
FROM warehouse_new_sales n
JOIN production.transactions t ON t.transaction_id = n.transaction_id
WHERE t.created_at < $1::timestamptz
