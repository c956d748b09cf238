-- The layers' floor (issue 19): the least a first load of this contract's layers costs on this
-- server, measured right after a bench run from the run's own staging tables. Each layer the
-- warehouse contract names is written once, by one plain statement, and then given the keys,
-- indexes and foreign keys its real table declares (read from the catalog, so the floor follows the
-- schema): production's transactions and lines, cleansed by the run's references; the warehouse's
-- facts, looked up in the dimensions the run built; the three aggregates, each one GROUP BY.
--
-- What it leaves out, so that it is a floor and not an estimate: the quality gate, customers,
-- products, the dimensions and their history (read as the run left them), the reasons a rejected
-- row would be given (it only drops what a join does not find), every check the pipeline makes to
-- let a redo, a backfill or a later day give the same warehouse, and the analytics stage.
--
-- Run by bench.ts as one transaction in a schema of its own, rolled back at the end so that nothing
-- stays; `\echo @layer` lines mark where each layer's statements start, so that the bench can add
-- up their `\timing`.

\set ON_ERROR_STOP 1
\timing on
BEGIN;
-- The memory the stages give their own transactions by default (production-etl's work_mem and
-- maintenance_work_mem, and jit off as the warehouse sets it): a floor must not spill where the
-- pipeline does not.
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '128MB';
SET LOCAL jit = off;
CREATE SCHEMA bench_layers;

-- Keys, indexes and foreign keys of `source` added to `target` as `source` declares them, primary
-- and unique keys first, foreign keys last (as bulk-load-objects.sql orders them). A reference to
-- production.transactions (the lines' foreign key) is pointed at its copy here.
CREATE FUNCTION bench_layers.add_keys(source regclass, target regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  ddl text;
BEGIN
  FOR ddl IN
    SELECT statement
    FROM (SELECT CASE WHEN c.contype = 'f' THEN 2 ELSE 0 END AS position,
                 format('ALTER TABLE %s ADD CONSTRAINT %I %s', target, c.conname,
                        replace(pg_get_constraintdef(c.oid), 'REFERENCES production.transactions(',
                                'REFERENCES bench_layers.transactions(')) AS statement
          FROM pg_constraint c
          WHERE c.conrelid = source AND c.contype IN ('p', 'u', 'f')
          UNION ALL
          SELECT 1, replace(pg_get_indexdef(i.indexrelid), ' ON ' || source::text || ' ', ' ON ' || target::text || ' ')
          FROM pg_index i
          WHERE i.indrelid = source
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = source)
         ) objects
    ORDER BY position
  LOOP
    EXECUTE ddl;
  END LOOP;
  -- A floor built without a key it should have would be too low, and say nothing.
  IF (SELECT count(*) FROM pg_index WHERE indrelid = target) <> (SELECT count(*) FROM pg_index WHERE indrelid = source)
     OR (SELECT count(*) FROM pg_constraint WHERE conrelid = target AND contype IN ('p', 'u', 'f'))
        <> (SELECT count(*) FROM pg_constraint WHERE conrelid = source AND contype IN ('p', 'u', 'f')) THEN
    RAISE EXCEPTION '% did not get every key and index of %', target, source;
  END IF;
  EXECUTE format('ANALYZE %s', target);
END
$$;

CREATE TABLE bench_layers.transactions (LIKE production.transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE bench_layers.transaction_items (LIKE production.transaction_items INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE bench_layers.fact_sales (LIKE warehouse.fact_sales INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY);
CREATE TABLE bench_layers.agg_daily_sales (LIKE warehouse.agg_daily_sales INCLUDING DEFAULTS);
CREATE TABLE bench_layers.agg_customer_metrics (LIKE warehouse.agg_customer_metrics INCLUDING DEFAULTS);
CREATE TABLE bench_layers.agg_product_performance (LIKE warehouse.agg_product_performance INCLUDING DEFAULTS);

\echo @layer production
INSERT INTO bench_layers.transactions
  (transaction_id, customer_id, transaction_date, transaction_time, payment_method, shipping_address,
   total_amount, business_date)
SELECT trim(s.transaction_id), c.customer_id, s.transaction_date, s.transaction_time, trim(s.payment_method),
       trim(s.shipping_address), s.total_amount, s.transaction_date
FROM staging.transactions s
JOIN production.customers c ON c.customer_id = trim(s.customer_id);
INSERT INTO bench_layers.transaction_items
  (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total, business_date)
SELECT trim(s.item_id), t.transaction_id, p.product_id, s.quantity, s.unit_price, s.discount_percentage,
       s.line_total, t.business_date
FROM staging.transaction_items s
JOIN bench_layers.transactions t ON t.transaction_id = trim(s.transaction_id)
JOIN production.products p ON p.product_id = trim(s.product_id);
SELECT bench_layers.add_keys('production.transactions', 'bench_layers.transactions');
SELECT bench_layers.add_keys('production.transaction_items', 'bench_layers.transaction_items');

\echo @layer warehouse
-- A first load has one version of each member: the current one.
INSERT INTO bench_layers.fact_sales
  (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
   quantity, unit_price, discount_amount, discount_percentage, line_total, profit)
SELECT i.item_id, dd.date_key, dc.customer_key, dp.product_key, pm.payment_method_key, i.transaction_id,
       i.quantity, i.unit_price, i.quantity * i.unit_price - i.line_total, i.discount_percentage,
       i.line_total, i.line_total - i.quantity * p.cost
FROM bench_layers.transaction_items i
JOIN bench_layers.transactions t ON t.transaction_id = i.transaction_id
JOIN production.products p ON p.product_id = i.product_id
JOIN warehouse.dim_date dd ON dd.full_date = t.transaction_date
JOIN warehouse.dim_customers dc ON dc.customer_id = t.customer_id AND dc.is_current
JOIN warehouse.dim_products dp ON dp.product_id = i.product_id AND dp.is_current
JOIN warehouse.dim_payment_method pm ON pm.payment_method_name = t.payment_method;
SELECT bench_layers.add_keys('warehouse.fact_sales', 'bench_layers.fact_sales');

\echo @layer aggregates
INSERT INTO bench_layers.agg_daily_sales (date_key, total_transactions, total_revenue, total_profit, unique_customers)
SELECT date_key, count(DISTINCT transaction_id), sum(line_total), sum(profit), count(DISTINCT customer_key)
FROM bench_layers.fact_sales
GROUP BY date_key;
INSERT INTO bench_layers.agg_customer_metrics (customer_key, total_transactions, total_spent, avg_order_value, last_purchase_date)
SELECT customer_key, count(*), sum(spent), round(sum(spent) / count(*), 2), max(d.full_date)
FROM (SELECT customer_key, transaction_id, sum(line_total) AS spent, max(date_key) AS date_key
      FROM bench_layers.fact_sales
      GROUP BY customer_key, transaction_id) per_transaction
JOIN warehouse.dim_date d ON d.date_key = per_transaction.date_key
GROUP BY customer_key;
INSERT INTO bench_layers.agg_product_performance (product_key, total_quantity_sold, total_revenue, total_profit, avg_discount_percentage)
SELECT product_key, sum(quantity), sum(line_total), sum(profit), round(avg(discount_percentage), 2)
FROM bench_layers.fact_sales
GROUP BY product_key;

\echo @layer end
ROLLBACK;
