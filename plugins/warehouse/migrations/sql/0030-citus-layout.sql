-- The warehouse laid out over a Citus cluster (docs/operations.md, "Beyond one machine"). Applied
-- only where the citus extension exists (migrations/1764100030000-citus-layout.ts, beside this folder); plain
-- PostgreSQL and the embedded database keep the layout of the migrations before this one.
--
-- * fact_sales is distributed by item_id, its natural key: the one column no warehouse statement
--   ever changes (a late date re-points facts to other customer and product versions, so
--   customer_key would move rows between shards, which Citus does not do), and the column of its
--   unique key, which Citus requires to contain the distribution column.
-- * The dimensions are reference tables (a copy on every node), so that the foreign keys from
--   fact_sales hold and every join of facts to dimensions runs where the facts are.
-- * Everything else (staging, production, pipeline, the aggregates, the analytics summaries) stays
--   on the coordinator as plain tables: their statements read or write a day at a time or a
--   summary the size of an answer.
--
-- One transaction: the migrator's. Citus refuses to change a distributed table after a statement
-- over every shard in the same transaction unless it runs one connection per node.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- Statement triggers on a distributed table would run on the workers' shards, where the tables
-- they write (the product sums here, other plugins' state) do not exist. Every trigger on
-- fact_sales goes, whichever plugin made it: a plugin that follows fact_sales with a trigger must
-- create it only without Citus and detect its absence (the analytics plugin does). Facts changed
-- by hand are found instead by comparing totals (warehouse/sql/product-performance-sums-known.sql,
-- analytics/summaries/state.sql).
-- (Written so that no line inside the block ends in `;`: the migration sends one statement at a time.)
DO $$ DECLARE t name; BEGIN
  FOR t IN SELECT tgname FROM pg_trigger WHERE tgrelid = 'warehouse.fact_sales'::regclass AND NOT tgisinternal
  LOOP EXECUTE format('DROP TRIGGER %I ON warehouse.fact_sales', t); END LOOP; END $$;

-- A foreign key to a table that is not yet a reference table would make Citus turn fact_sales into
-- a coordinator-local table; they are added back once both sides are laid out. One change per
-- statement: Citus propagates each to every shard and takes no list.
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_date_key_fkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_customer_key_fkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_product_key_fkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_payment_method_key_fkey;

-- Unique keys must contain the distribution column: sales_key stays unique (an identity), now
-- together with item_id. The large-load path re-adds the keys as they are defined here
-- (warehouse/sql/fact-sales-unique-keys.sql).
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_pkey;
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_pkey PRIMARY KEY (sales_key, item_id);

SELECT create_reference_table('warehouse.dim_date');
SELECT create_reference_table('warehouse.dim_payment_method');
SELECT create_reference_table('warehouse.dim_customers');
SELECT create_reference_table('warehouse.dim_products');
SELECT create_distributed_table('warehouse.fact_sales', 'item_id');

ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_date_key_fkey FOREIGN KEY (date_key) REFERENCES warehouse.dim_date (date_key);
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_customer_key_fkey FOREIGN KEY (customer_key) REFERENCES warehouse.dim_customers (customer_key);
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_product_key_fkey FOREIGN KEY (product_key) REFERENCES warehouse.dim_products (product_key);
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_payment_method_key_fkey FOREIGN KEY (payment_method_key) REFERENCES warehouse.dim_payment_method (payment_method_key);
