-- Production's fact tables laid out over a Citus cluster (docs/operations.md, "Beyond one
-- machine"). Applied only where the citus extension exists (1764100060000-citus-layout.ts, beside
-- this folder); plain PostgreSQL and the embedded database keep the layout of 0001.
--
-- * transactions and transaction_items are distributed by transaction_id and co-located: a
--   transaction and its lines live on the same worker, so the statements that join them (sums,
--   totals, the warehouse's read of every sale) run shard by shard. transaction_id is never
--   changed on a transaction; a line that moves to another transaction (a correction, a copy
--   restored) is deleted and inserted again by the statements that move it, because Citus does
--   not move a row between shards on UPDATE.
-- * Unique keys must contain the distribution column: the lines' key becomes (item_id,
--   transaction_id), item_id first so that lookups by item_id keep using it. No two lines share
--   an item_id all the same: the classification resolves duplicates and updates a known id rather
--   than inserting it, and warehouse.fact_sales keeps UNIQUE (item_id).
-- * Foreign keys from a distributed table to a coordinator table are not possible: those to
--   customers and products go (the quality gate and the classification refuse orphans, as they do
--   on one server); the lines' key to their transaction stays (co-located, it holds shard by shard).
-- * Everything else in production (customers, products, their history, the copies, the withdrawn
--   facts, business dates, rejected rows) stays on the coordinator: a day's rows at a time.
--
-- One transaction: the migrator's. Citus refuses to change a distributed table after a statement
-- over every shard in the same transaction unless it runs one connection per node.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- (One change per statement: Citus propagates each to every shard and takes no list.)
ALTER TABLE production.transactions DROP CONSTRAINT IF EXISTS transactions_customer_id_fkey;
ALTER TABLE production.transaction_items DROP CONSTRAINT IF EXISTS transaction_items_product_id_fkey;
ALTER TABLE production.transaction_items DROP CONSTRAINT IF EXISTS transaction_items_transaction_id_fkey;
ALTER TABLE production.transaction_items DROP CONSTRAINT transaction_items_pkey;
ALTER TABLE production.transaction_items ADD CONSTRAINT transaction_items_pkey PRIMARY KEY (item_id, transaction_id);

SELECT create_distributed_table('production.transactions', 'transaction_id');
SELECT create_distributed_table('production.transaction_items', 'transaction_id', colocate_with => 'production.transactions');

ALTER TABLE production.transaction_items ADD CONSTRAINT transaction_items_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES production.transactions (transaction_id);
