-- The items whose facts this run writes, inserts, moves or removes ($1 = the start of the
-- latest run, README "What counts as new"): production items created or changed since (a BRIN
-- index on created_at, a partial index on the updated ones, migration 0021), the items
-- of transactions changed since (a corrected date, customer or payment method changes every
-- line's keys), items withdrawn since, and the facts of dirty members (warehouse_dirty_members)
-- from the business date their history changed on (a fact's keys and profit depend only on its
-- sale date, and a member's versions changed from that date on), and the items of the sales set
-- aside, by this run (a fact they had leaves) or by the latest (a corrected date loads them).
CREATE TEMP TABLE warehouse_target_items ON COMMIT DROP AS
SELECT i.item_id
FROM production.transaction_items i
WHERE (i.created_at >= $1::timestamptz OR (i.updated_at > i.created_at AND i.updated_at >= $1::timestamptz))
UNION
SELECT i.item_id
FROM production.transactions t
JOIN production.transaction_items i ON i.transaction_id = t.transaction_id
WHERE (t.created_at >= $1::timestamptz OR (t.updated_at > t.created_at AND t.updated_at >= $1::timestamptz))
UNION
SELECT w.fact_id
FROM production.withdrawn_facts w
WHERE w.table_name = 'transaction_items' AND w.withdrawn_at >= $1::timestamptz
UNION
-- The dirty versions and their dates first (OFFSET 0), then their facts from the date on through
-- fact_sales (customer_key, date_key): a daily run's dirty members have none yet, and the planner,
-- knowing how few versions there are, looks them up instead of scanning every fact. (Not a
-- LATERAL subquery per version: Citus, where fact_sales is distributed, cannot run one that reads
-- this transaction's temporary table.)
SELECT s.item_id
FROM (SELECT v.customer_key,
             CASE WHEN m.from_date = '-infinity' THEN 0 ELSE to_char(m.from_date, 'YYYYMMDD')::int END AS from_date_key
      FROM warehouse_dirty_members m
      JOIN warehouse.dim_customers v ON v.customer_id = m.member_id
      WHERE m.dimension = 'customers'
      OFFSET 0) d
JOIN warehouse.fact_sales s ON s.customer_key = d.customer_key AND s.date_key >= d.from_date_key
UNION
SELECT s.item_id
FROM (SELECT v.product_key,
             CASE WHEN m.from_date = '-infinity' THEN 0 ELSE to_char(m.from_date, 'YYYYMMDD')::int END AS from_date_key
      FROM warehouse_dirty_members m
      JOIN warehouse.dim_products v ON v.product_id = m.member_id
      WHERE m.dimension = 'products'
      OFFSET 0) d
JOIN warehouse.fact_sales s ON s.product_key = d.product_key AND s.date_key >= d.from_date_key
UNION
SELECT i.item_id
FROM (SELECT transaction_id FROM warehouse_sales_set_aside
      UNION
      SELECT transaction_id FROM warehouse.sales_set_aside) a
JOIN production.transaction_items i ON i.transaction_id = a.transaction_id
