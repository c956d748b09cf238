-- The analytics summaries over a Citus cluster (docs/operations.md, "Beyond one machine").
-- Applied only where the citus extension exists (1764100060000-citus-layout.ts, beside this
-- folder); plain PostgreSQL and the embedded database keep the layout of 0001.
--
-- * analytics.transactions, one row per transaction (as many as production's), is distributed by
--   transaction_id, its key. In a co-location group of its own: its transaction_id is compared
--   in the "C" collation (0001), production's in the database's, and Citus co-locates only
--   columns of one collation. Its rows are written from warehouse.fact_sales (by item_id) through
--   the coordinator either way.
-- * Every other summary is one row per day, customer, product or version, or per customer and
--   month: the size of a dimension or of an answer. They stay on the coordinator.
-- * It becomes a logged table first. The summaries are unlogged (0001): rebuilt from the facts,
--   they need no WAL, and a crash of the one server empties all of them at once, summary_state
--   included, which then says to rebuild. Distributed, its shards would live on the workers, and
--   a crash or an immediate stop of one worker would empty only that worker's shards while the
--   coordinator's summary_state still says the summaries are whole: transactions silently gone
--   from the counts (test/citus caught it: 559 of 1106 rows left after a worker restart).
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

ALTER TABLE analytics.transactions SET LOGGED;

SELECT create_distributed_table('analytics.transactions', 'transaction_id', colocate_with => 'none');
