-- Each member as production held it after the business date before this run's (see
-- history-before.sql), in the daily case: no date on or after run_date loaded yet, so
-- production's rows are exactly that state. A view over them, not a copy: classification joins
-- them through their keys as it always did (a copy of 150k members cost a second at a million
-- transactions). Dropped before commit (history-before-drop.sql); a rollback drops it too.
CREATE TEMP VIEW etl_customers_before AS
SELECT p.customer_id, CASE WHEN p.is_active THEN 'present' ELSE 'absent' END AS observation,
       p.first_name, p.last_name, p.email, p.phone, p.registration_date, p.city, p.state, p.country, p.age_group
FROM production.customers p;

CREATE TEMP VIEW etl_products_before AS
SELECT p.product_id, CASE WHEN p.is_active THEN 'present' ELSE 'absent' END AS observation,
       p.product_name, p.category, p.sub_category, p.price, p.cost, p.brand, p.stock_quantity, p.supplier_id,
       p.profit_margin, p.price_category
FROM production.products p;
