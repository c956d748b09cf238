-- $1 = work_mem for the increment's sort and the aggregates (a first load's hashes and sorts spill
-- to temporary files at the server default). JIT off: compiling costs more than it saves on
-- statements of a second or less, and at a million facts the planner's costs cross its threshold.
-- $2 = random_page_cost (see warehouse.config.ts): reads through an index cost about what
-- sequential ones do when the pages are in memory.
-- On a Citus cluster (docs/operations.md, "Beyond one machine") this transaction modifies the
-- reference tables (dimensions) after statements over every shard of fact_sales, which Citus
-- refuses in its default parallel mode; sequential mode (one connection per node) allows it.
-- Without Citus the setting is an inert placeholder, so one statement serves both engines.
SELECT set_config('work_mem', $1::text, true),
       set_config('jit', 'off', true),
       set_config('random_page_cost', $2::text, true),
       set_config('citus.multi_shard_modify_mode', 'sequential', true)
