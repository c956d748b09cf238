-- fact_sales_payment_method_key_idx (migration 0001) serves no reader: no stage, query or dashboard
-- filters or joins facts by payment method through it (analytics groups whole tables), and its one
-- other use, checking the foreign key when a dim_payment_method row is deleted or its key
-- changes, never happens (dimension rows are never deleted, surrogate keys never change). Every
-- large warehouse load rebuilds it and every daily load inserts into it: at 900,000 facts its
-- build cost 0.3-0.4 s of backend CPU, as much as any other fact index. The foreign key stays.
DROP INDEX IF EXISTS warehouse.fact_sales_payment_method_key_idx;
