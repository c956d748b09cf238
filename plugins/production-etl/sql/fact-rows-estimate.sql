-- Rows already in the fact tables, from the planner's statistics (a count would scan them all).
SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint AS estimate
FROM pg_class c
WHERE c.oid IN ('production.transactions'::regclass, 'production.transaction_items'::regclass)
