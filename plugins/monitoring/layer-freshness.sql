-- The newest row of each layer. staging.loaded_at is a timestamp without time zone written by
-- DEFAULT now() in the session time zone; casting it back in a session of the same server reads
-- it with the same rule. Staging (one increment) and the dimensions are scanned; the facts are
-- read from indexes (migration 0007), so the cost does not grow with history.
SELECT
  (SELECT max(newest) FROM (
     SELECT max(loaded_at) FROM staging.customers
     UNION ALL SELECT max(loaded_at) FROM staging.products
     UNION ALL SELECT max(loaded_at) FROM staging.transactions
     UNION ALL SELECT max(loaded_at) FROM staging.transaction_items
   ) s(newest))::timestamptz AS staging,
  (SELECT max(newest) FROM (
     -- One scan per dimension for both columns.
     SELECT max(greatest(created_at, updated_at)) FROM production.customers
     UNION ALL SELECT max(greatest(created_at, updated_at)) FROM production.products
     -- The fact tables answer from an index on this expression (migration 0007), not a scan.
     UNION ALL SELECT max(greatest(created_at, updated_at)) FROM production.transactions
     UNION ALL SELECT max(greatest(created_at, updated_at)) FROM production.transaction_items
   ) p(newest)) AS production,
  (SELECT max(created_at) FROM warehouse.fact_sales) AS warehouse;
