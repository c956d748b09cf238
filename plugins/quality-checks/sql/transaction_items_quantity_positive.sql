-- validity: items with no or negative quantity.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_quantity_positive', format('quantity %s is not above 0', r.quantity), to_jsonb(r)
FROM staging.transaction_items r
WHERE r.quantity <= 0;
