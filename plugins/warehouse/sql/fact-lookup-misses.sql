-- Target facts whose dimension lookups missed ($1 = how many to name), with the total count.
SELECT item_id,
       transaction_date::text AS transaction_date,
       customer_id,
       product_id,
       payment_method,
       date_key IS NULL AS date_missing,
       customer_key IS NULL AS customer_missing,
       product_key IS NULL AS product_missing,
       payment_method_key IS NULL AS payment_method_missing,
       profit IS NULL AS cost_missing,
       count(*) OVER ()::int AS total
FROM warehouse_fact_targets
WHERE action IN ('insert', 'update')
  AND (date_key IS NULL OR customer_key IS NULL OR product_key IS NULL OR payment_method_key IS NULL OR profit IS NULL)
ORDER BY item_id COLLATE "C"
LIMIT $1
