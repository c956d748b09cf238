-- Which production rows a warehouse run must read (those created or changed since its latest run)
-- and how fresh each layer is were answered by B-tree indexes on greatest(created_at, updated_at)
-- of the two fact tables and on fact_sales.created_at (migration 0007). Every bulk load rebuilt the
-- three and every row inserted went into them. Cheaper, for the same answers:
-- * rows are appended in load order, so created_at follows the table's physical order: a BRIN
--   index (a few pages, built in one pass) finds the rows created since a time;
-- * a row is updated after its insert only when a date is redone or loaded late: a partial index
--   on updated_at of those rows alone (usually none) finds the rows changed since a time;
-- * the newest load of production and of the warehouse is recorded by the stages themselves
--   (production.business_dates.loaded_at, warehouse.load_state.loaded_through), which monitoring
--   reads instead of the newest row.
DROP INDEX production.transactions_newest_change_idx;
DROP INDEX production.transaction_items_newest_change_idx;
DROP INDEX warehouse.fact_sales_created_at_idx;
CREATE INDEX transactions_created_at_idx ON production.transactions USING brin (created_at);
CREATE INDEX transaction_items_created_at_idx ON production.transaction_items USING brin (created_at);
CREATE INDEX transactions_updated_at_idx ON production.transactions (updated_at) WHERE updated_at > created_at;
CREATE INDEX transaction_items_updated_at_idx ON production.transaction_items (updated_at) WHERE updated_at > created_at;
