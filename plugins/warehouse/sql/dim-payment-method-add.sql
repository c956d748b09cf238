-- New method names only (the anti-join keeps the identity from being consumed by names that
-- are already there, so a key depends on the data, not on how often the stage ran).
-- An anti-join, not NOT EXISTS: Citus plans no correlated subquery beside a subquery in FROM.
-- $1 as in new-sales-collect.sql: the methods of older transactions were added by earlier runs.
INSERT INTO warehouse.dim_payment_method (payment_method_name, payment_type)
SELECT m.name,
       CASE WHEN lower(m.name) = 'cash on delivery' THEN 'Offline' ELSE 'Online' END
FROM (SELECT DISTINCT payment_method AS name FROM production.transactions
      WHERE (created_at >= $1::timestamptz OR (updated_at > created_at AND updated_at >= $1::timestamptz))) m
LEFT JOIN warehouse.dim_payment_method p ON p.payment_method_name = m.name
WHERE p.payment_method_key IS NULL
ORDER BY m.name COLLATE "C"
ON CONFLICT (payment_method_name) DO NOTHING
