-- The views of history-before-view.sql outlive the transaction (temporary views last the session):
-- gone before commit, so the next run on this connection starts without them.
DROP VIEW etl_customers_before, etl_products_before;
