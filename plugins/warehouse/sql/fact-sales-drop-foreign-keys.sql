-- Large loads: a foreign key checks each inserted row on its own (a trigger per row); dropped
-- here and re-added by fact-sales-add-foreign-keys.sql in the same transaction, the check becomes
-- one set-based validation, and no other session ever sees the table without them.
ALTER TABLE warehouse.fact_sales
  DROP CONSTRAINT fact_sales_date_key_fkey,
  DROP CONSTRAINT fact_sales_customer_key_fkey,
  DROP CONSTRAINT fact_sales_product_key_fkey,
  DROP CONSTRAINT fact_sales_payment_method_key_fkey
