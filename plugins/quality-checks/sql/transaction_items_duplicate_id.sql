-- uniqueness: every row of staging.transaction_items whose item_id occurs more than once. All copies are quarantined:
-- nothing says which one is right. NULL or blank ids are the completeness check's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_duplicate_id',
       format('item_id %s occurs %s times', r.item_id, d.occurrences), to_jsonb(r)
FROM staging.transaction_items r
JOIN (
  SELECT item_id, count(*) AS occurrences
  FROM staging.transaction_items
  WHERE nullif(btrim(item_id), '') IS NOT NULL
  GROUP BY item_id
  HAVING count(*) > 1
) d ON d.item_id = r.item_id;
