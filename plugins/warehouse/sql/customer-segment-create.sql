CREATE TEMP TABLE warehouse_customer_segment (
  customer_id      text PRIMARY KEY,
  customer_segment text NOT NULL
) ON COMMIT DROP
