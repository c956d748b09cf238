-- consistency: items whose line_total is not round(quantity * unit_price * (1 - discount/100), 2)
-- within the tolerance. $1 run id, $2 tolerance. Rows missing an input are completeness's.
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.transaction_items', r.item_id, 'transaction_items_line_total',
       format('line_total %s differs from round(quantity * unit_price * (1 - discount_percentage / 100), 2) = %s',
              r.line_total, c.expected),
       to_jsonb(r)
FROM staging.transaction_items r
CROSS JOIN LATERAL (
  SELECT round(r.quantity * r.unit_price * (1 - r.discount_percentage / 100), 2) AS expected
) c
WHERE abs(r.line_total - c.expected) > $2::numeric;
