-- After the unique keys (re-added as they were, see fact-sales-drop-foreign-keys-and-indexes.sql,
-- validated over the whole table: a duplicate item_id fails the load there, as it would have on
-- insert), the four foreign keys and the indexes readers use, by their names. One change per
-- statement, for Citus (as in the drop file).

-- The aggregates' recomputation of touched days, customer and product versions reads facts by
-- these, and a version's facts from a date on are found by the last two (migration 0020).
CREATE INDEX fact_sales_date_key_idx ON warehouse.fact_sales (date_key);
CREATE INDEX fact_sales_customer_key_idx ON warehouse.fact_sales (customer_key, date_key);
CREATE INDEX fact_sales_product_key_idx ON warehouse.fact_sales (product_key, date_key);

ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_date_key_fkey FOREIGN KEY (date_key) REFERENCES warehouse.dim_date (date_key);
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_customer_key_fkey FOREIGN KEY (customer_key) REFERENCES warehouse.dim_customers (customer_key);
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_product_key_fkey FOREIGN KEY (product_key) REFERENCES warehouse.dim_products (product_key);
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_payment_method_key_fkey FOREIGN KEY (payment_method_key) REFERENCES warehouse.dim_payment_method (payment_method_key);
