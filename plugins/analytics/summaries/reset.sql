-- Starts a rebuild (the first run, or the facts changed other than by appending:
-- summary_state.stale): the bookkeeping, so that refresh-scope.sql would take every fact as new.
-- Each half of the rebuild empties its own summaries (rebuild-transactions.sql,
-- rebuild-product-summaries.sql), so that the halves can run side by side in transactions of
-- their own; this one's locks stay clear of theirs.
TRUNCATE analytics.product_categories;
INSERT INTO analytics.summary_state (last_sales_key, stale) VALUES (0, false)
ON CONFLICT (singleton) DO UPDATE SET last_sales_key = 0, stale = false;
