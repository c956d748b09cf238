-- An accepted customer whose email stays with another production customer after this load
-- (one that is not itself re-staged with an accepted row, so keeps its email, active or not)
-- would break customers_email_key at commit: reject it. Repeated until nothing changes, since a
-- rejection leaves that customer's production email in place.
UPDATE etl_customers e SET reason = 'duplicate_email'
WHERE e.reason IS NULL
  AND EXISTS (
    SELECT 1
    FROM production.customers p
    WHERE p.email = e.email
      AND p.customer_id <> e.customer_id
      AND NOT EXISTS (SELECT 1 FROM etl_customers o WHERE o.customer_id = p.customer_id AND o.reason IS NULL)
  )
