-- An accepted customer whose email stays with another member after this load (one that held it
-- before this business date, active or not, and is not itself re-staged with an accepted row, so
-- keeps its email) would break customers_email_key: reject it. Repeated until nothing changes,
-- since a rejection leaves that customer's former email in place.
UPDATE etl_customers e SET reason = 'duplicate_email'
WHERE e.reason IS NULL
  AND EXISTS (
    SELECT 1
    FROM etl_customers_before p
    WHERE p.email = e.email
      AND p.customer_id <> e.customer_id
      AND NOT EXISTS (SELECT 1 FROM etl_customers o WHERE o.customer_id = p.customer_id AND o.reason IS NULL)
  )
