INSERT INTO production.customers
  (customer_id, first_name, last_name, email, phone, registration_date, city, state, country, age_group)
SELECT customer_id, first_name, last_name, email, phone, registration_date, city, state, country, age_group
FROM etl_customers
WHERE reason IS NULL AND action = 'insert'
