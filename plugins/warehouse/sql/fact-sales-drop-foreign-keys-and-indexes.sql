-- Large loads: a foreign key checks each inserted row on its own (a trigger per row) and each
-- index (the two unique keys' included) takes every row one at a time. Dropped here and re-added
-- by fact-sales-add-foreign-keys-and-indexes.sql in the same transaction, the checks become one
-- set-based validation and each index one sorted build; no other session ever sees the table
-- without them (ALTER TABLE holds an exclusive lock). Nothing outside fact_sales references its keys.
-- The two unique keys are re-added as they were defined (the repository reads them first): on a
-- Citus cluster the primary key includes the distribution column, here it is sales_key alone.
-- One change per statement, run one at a time: Citus propagates each to every shard and accepts
-- neither several constraints in one ALTER TABLE nor several indexes in one DROP INDEX.
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_item_id_key;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_pkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_date_key_fkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_customer_key_fkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_product_key_fkey;
ALTER TABLE warehouse.fact_sales DROP CONSTRAINT fact_sales_payment_method_key_fkey;
DROP INDEX warehouse.fact_sales_date_key_idx;
DROP INDEX warehouse.fact_sales_customer_key_idx;
DROP INDEX warehouse.fact_sales_product_key_idx;
