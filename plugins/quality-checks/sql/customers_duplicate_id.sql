-- uniqueness: every row of staging.customers whose customer_id occurs more than once. All copies are quarantined:
-- nothing says which one is right. NULL or blank ids are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', r.customer_id, 'customers_duplicate_id',
       format('customer_id %s occurs %s times', r.customer_id, d.occurrences), to_jsonb(r)
FROM staging.customers r
JOIN (
  SELECT customer_id, count(*) AS occurrences
  FROM staging.customers
  WHERE nullif(btrim(customer_id), '') IS NOT NULL
  GROUP BY customer_id
  HAVING count(*) > 1
) d ON d.customer_id = r.customer_id;
