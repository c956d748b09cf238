-- A synthetic staging set for timing the quality gate: bench.transactions transactions with three items
-- each, every amount consistent, so only the planted defects (1 customer email in 1000, 1 product cost in 100, 1 line total in 1000, 1 transaction total in 1000) fail.
-- The size comes from the session setting bench.transactions (set by the bench script).
TRUNCATE staging.customers, staging.products, staging.transactions, staging.transaction_items;

INSERT INTO staging.customers (customer_id, first_name, last_name, email, phone, registration_date, city, state, country, age_group)
SELECT format('CUST%s', lpad(i::text, 7, '0')), 'First' || i, 'Last' || i,
       CASE WHEN i % 1000 = 0 THEN format('USER%s@Example.com', i - 1) ELSE format('user%s@example.com', i) END,
       '+1 555 ' || i, DATE '2023-01-01' + (i % 700), 'City' || (i % 300), 'State' || (i % 50), 'USA', '25-34'
FROM generate_series(1, greatest(current_setting('bench.transactions')::int / 10, 10)) AS i;

INSERT INTO staging.products (product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id)
SELECT format('PROD%s', lpad(i::text, 6, '0')), 'Product ' || i, 'Category' || (i % 6), 'Sub' || (i % 20),
       10 + (i % 490), CASE WHEN i % 100 = 0 THEN 10 + (i % 490) ELSE round((10 + (i % 490)) * 0.6, 2) END,
       'Brand' || (i % 40), i % 300, 'SUP' || (i % 25)
FROM generate_series(1, greatest(current_setting('bench.transactions')::int / 200, 10)) AS i;

INSERT INTO staging.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total)
SELECT format('ITEM%s', lpad(i::text, 8, '0')), format('TXN%s', lpad(((i - 1) / 3 + 1)::text, 8, '0')), p.product_id,
       q.quantity, p.price, d.discount,
       round(q.quantity * p.price * (1 - d.discount / 100), 2) + CASE WHEN i % 1000 = 0 THEN 1 ELSE 0 END
FROM generate_series(1, current_setting('bench.transactions')::int * 3) AS i
CROSS JOIN LATERAL (SELECT 1 + (i % 5) AS quantity) q
CROSS JOIN LATERAL (SELECT ((ARRAY[0, 5, 10, 15])[1 + i % 4])::numeric AS discount) d
JOIN staging.products p ON p.product_id = format('PROD%s', lpad((1 + i % greatest(current_setting('bench.transactions')::int / 200, 10))::text, 6, '0'));

INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, transaction_time, payment_method, shipping_address, total_amount)
SELECT s.transaction_id,
       format('CUST%s', lpad((1 + t % greatest(current_setting('bench.transactions')::int / 10, 10))::text, 7, '0')),
       DATE '2024-01-01' + (t % 366), TIME '08:00' + (t % 600) * INTERVAL '1 minute',
       (ARRAY['Credit Card', 'Debit Card', 'UPI', 'Cash on Delivery', 'Net Banking'])[1 + t % 5],
       t || ' Main St', s.lines_total + CASE WHEN t % 1000 = 0 THEN 1 ELSE 0 END
FROM (
  SELECT transaction_id, substr(transaction_id, 4)::int AS t, sum(line_total) AS lines_total
  FROM staging.transaction_items GROUP BY transaction_id
) s;
