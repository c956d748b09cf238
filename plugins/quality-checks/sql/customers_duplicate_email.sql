-- uniqueness: customers whose email, trimmed and lower-cased (as production stores it), belongs to
-- more than one row. Every row of such a group is quarantined. Blank emails are completeness's.
WITH normalized AS (
  SELECT r, lower(btrim(r.email)) AS email_key
  FROM staging.customers r
  WHERE nullif(btrim(r.email), '') IS NOT NULL
),
shared AS (
  SELECT email_key, count(*) AS occurrences
  FROM normalized
  GROUP BY email_key
  HAVING count(*) > 1
)
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.customers', (n.r).customer_id, 'customers_duplicate_email',
       format('email %s is shared by %s rows', s.email_key, s.occurrences), to_jsonb(n.r)
FROM normalized n
JOIN shared s USING (email_key);
