-- uniqueness: every row of staging.products whose product_id occurs more than once. All copies are quarantined:
-- nothing says which one is right. NULL or blank ids are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_duplicate_id',
       format('product_id %s occurs %s times', r.product_id, d.occurrences), to_jsonb(r)
FROM staging.products r
JOIN (
  SELECT product_id, count(*) AS occurrences
  FROM staging.products
  WHERE nullif(btrim(product_id), '') IS NOT NULL
  GROUP BY product_id
  HAVING count(*) > 1
) d ON d.product_id = r.product_id;
