-- validity: items whose discount is not a percentage.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_discount_range', format('discount_percentage %s is outside 0..100', r.discount_percentage), to_jsonb(r)
FROM staging.transaction_items r
WHERE r.discount_percentage NOT BETWEEN 0 AND 100;
