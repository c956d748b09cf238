-- After a large load the planner's statistics are stale for the stages that read production next.
ANALYZE production.customers, production.products, production.transactions, production.transaction_items
