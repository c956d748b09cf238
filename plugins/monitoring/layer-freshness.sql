-- When each layer was last loaded. staging.loaded_at is a timestamp without time zone written by
-- DEFAULT now() in the session time zone; casting it back in a session of the same server reads
-- it with the same rule. Staging (one increment) is scanned; production and the warehouse say
-- when their latest load ran (production.business_dates.loaded_at, warehouse.load_state), so the
-- cost does not grow with history and no index on the fact tables is kept for it.
SELECT
  (SELECT max(newest) FROM (
     SELECT max(loaded_at) FROM staging.customers
     UNION ALL SELECT max(loaded_at) FROM staging.products
     UNION ALL SELECT max(loaded_at) FROM staging.transactions
     UNION ALL SELECT max(loaded_at) FROM staging.transaction_items
   ) s(newest))::timestamptz AS staging,
  (SELECT max(loaded_at) FROM production.business_dates) AS production,
  (SELECT loaded_through FROM warehouse.load_state) AS warehouse;
