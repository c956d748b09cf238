-- Each member as production held it after the business date before this run's: its observation
-- then ('present' or 'absent'; 'unobserved' rows say nothing) with the values of its latest
-- 'present' row, which is what the production row of a member that left keeps. A member never
-- present before is not here. Classification compares the staged snapshot with this state,
-- whatever the order in which business dates are loaded (README, "Order of runs").
-- For a date loaded late (some date on or after run_date is loaded): read from the history, the
-- latest rows before run_date, once. The daily case reads production's rows instead
-- (history-before-view.sql).
CREATE TEMP TABLE etl_customers_before ON COMMIT DROP AS
SELECT o.customer_id, o.observation,
       p.first_name, p.last_name, p.email, p.phone, p.registration_date, p.city, p.state, p.country, p.age_group
FROM (SELECT DISTINCT ON (h.customer_id) h.customer_id, h.observation
      FROM production.customer_history h, etl_settings st
      WHERE h.business_date < st.run_date AND h.observation <> 'unobserved'
      ORDER BY h.customer_id, h.business_date DESC) o
JOIN (SELECT DISTINCT ON (h.customer_id) h.*
      FROM production.customer_history h, etl_settings st
      WHERE h.business_date < st.run_date AND h.observation = 'present'
      ORDER BY h.customer_id, h.business_date DESC) p ON p.customer_id = o.customer_id;
ALTER TABLE etl_customers_before ADD PRIMARY KEY (customer_id);
CREATE INDEX ON etl_customers_before (email);
ANALYZE etl_customers_before (customer_id, email, observation);

CREATE TEMP TABLE etl_products_before ON COMMIT DROP AS
SELECT o.product_id, o.observation,
       p.product_name, p.category, p.sub_category, p.price, p.cost, p.brand, p.stock_quantity, p.supplier_id,
       p.profit_margin, p.price_category
FROM (SELECT DISTINCT ON (h.product_id) h.product_id, h.observation
      FROM production.product_history h, etl_settings st
      WHERE h.business_date < st.run_date AND h.observation <> 'unobserved'
      ORDER BY h.product_id, h.business_date DESC) o
JOIN (SELECT DISTINCT ON (h.product_id) h.*
      FROM production.product_history h, etl_settings st
      WHERE h.business_date < st.run_date AND h.observation = 'present'
      ORDER BY h.product_id, h.business_date DESC) p ON p.product_id = o.product_id;
ALTER TABLE etl_products_before ADD PRIMARY KEY (product_id);
ANALYZE etl_products_before (product_id, observation);
