-- The sales this run sets aside, the first $1 by date, with how many there are in all.
SELECT transaction_id, transaction_date::text AS transaction_date, count(*) OVER ()::int AS total
FROM warehouse_sales_set_aside
ORDER BY transaction_date, transaction_id COLLATE "C"
LIMIT $1
