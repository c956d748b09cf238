-- Held versions of dirty customers that no wanted version matches (dim-customers-retire-keys.sql), once
-- every fact that referred to them has been pointed at its new version (the foreign key would
-- refuse otherwise). $1 = their keys: by value, not joined to this transaction's temporary
-- table, which Citus cannot join to a reference table it modifies.
DELETE FROM warehouse.dim_customers
WHERE customer_key = ANY($1::bigint[])
