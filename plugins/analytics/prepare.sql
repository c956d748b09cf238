-- Summaries that several queries share, computed once per run inside the stage's snapshot, so
-- that those queries read one row per transaction (or per product) instead of every fact.
-- Both tables live only until the stage's transaction ends.

-- Sorting the facts (in parallel where the server allows) beats hashing a million groups that
-- overflow work_mem and spill; hashing is allowed again right after this statement.
SET LOCAL enable_hashagg = off;

-- One row per transaction and the keys its lines carry: a transaction has one date, customer
-- version and payment method, so in practice this is one row per transaction; if its lines ever
-- disagreed, it would have one row per combination, and the queries still count it once per
-- group through count(DISTINCT txn). txn numbers the transactions: counting distinct integers
-- is much cheaper than counting distinct text. COLLATE "C" orders by bytes, which is cheaper
-- than the database collation and, like every deterministic collation, equal only when equal
-- byte for byte, so the numbering is the same partition of transactions.
CREATE TEMP TABLE analytics_transactions ON COMMIT DROP AS
SELECT dense_rank() OVER (ORDER BY s.transaction_id) AS txn,
       s.date_key, s.customer_key, s.payment_method_key, s.quantity, s.revenue, s.profit
FROM (SELECT transaction_id COLLATE "C" AS transaction_id, date_key, customer_key, payment_method_key,
             sum(quantity)   AS quantity,
             sum(line_total) AS revenue,
             sum(profit)     AS profit
      FROM warehouse.fact_sales
      GROUP BY 1, 2, 3, 4) s;

RESET enable_hashagg;
ANALYZE analytics_transactions;

-- One row per product natural id: every SCD2 version counts toward it (queries 1 and 8). The
-- facts are grouped by an integer standing for the natural id (its lowest product_key) rather
-- than by the id's text, which sorts far faster.
CREATE TEMP TABLE analytics_product_sales ON COMMIT DROP AS
WITH product_groups AS (
  SELECT product_key, min(product_key) OVER (PARTITION BY product_id) AS product_group
  FROM warehouse.dim_products
),
sales AS (
  SELECT g.product_group,
         sum(f.quantity)                              AS units_sold,
         count(DISTINCT f.transaction_id COLLATE "C") AS transactions,
         sum(f.line_total)                            AS revenue,
         sum(f.profit)                                AS profit,
         sum(f.discount_amount)                       AS discount_total
  FROM warehouse.fact_sales f
  JOIN product_groups g ON g.product_key = f.product_key
  GROUP BY g.product_group
)
SELECT p.product_id, s.units_sold, s.transactions, s.revenue, s.profit, s.discount_total
FROM sales s
JOIN warehouse.dim_products p ON p.product_key = s.product_group;
ANALYZE analytics_product_sales;

-- Integers standing for a customer natural id and for a (country, state) place across the SCD2
-- versions (the lowest customer_key carrying it; NULLs form one group, as in GROUP BY): grouping
-- a million transactions by them sorts far faster than by their text (queries 2, 3, 6 and 7).
CREATE TEMP TABLE analytics_customer_groups ON COMMIT DROP AS
SELECT customer_key,
       min(customer_key) OVER (PARTITION BY customer_id)    AS customer_group,
       min(customer_key) OVER (PARTITION BY country, state) AS place_group
FROM warehouse.dim_customers;
ANALYZE analytics_customer_groups;
