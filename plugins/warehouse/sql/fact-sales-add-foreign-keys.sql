-- The contract's four foreign keys, by their contract names, validated over the whole table.
ALTER TABLE warehouse.fact_sales
  ADD CONSTRAINT fact_sales_date_key_fkey FOREIGN KEY (date_key) REFERENCES warehouse.dim_date (date_key),
  ADD CONSTRAINT fact_sales_customer_key_fkey FOREIGN KEY (customer_key) REFERENCES warehouse.dim_customers (customer_key),
  ADD CONSTRAINT fact_sales_product_key_fkey FOREIGN KEY (product_key) REFERENCES warehouse.dim_products (product_key),
  ADD CONSTRAINT fact_sales_payment_method_key_fkey FOREIGN KEY (payment_method_key) REFERENCES warehouse.dim_payment_method (payment_method_key)
