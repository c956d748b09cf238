/**
 * A small staging data set that passes every check, for the quality gate's tests. Amounts are
 * worked by hand: line_total = round(quantity * unit_price * (1 - discount/100), 2) and each
 * total_amount is the sum of its lines.
 */
export const CLEAN_STAGING = `
TRUNCATE staging.customers, staging.products, staging.transactions, staging.transaction_items;
INSERT INTO staging.customers (customer_id, first_name, last_name, email, phone, registration_date, city, state, country, age_group) VALUES
  ('CUST0001', 'Ada', 'Lovelace', 'ada@example.com', '+44 20 7946 0001', '2023-05-01', 'London', 'England', 'UK', '25-34'),
  ('CUST0002', 'Alan', 'Turing', 'alan@example.com', '+44 20 7946 0002', '2023-06-01', 'Manchester', 'England', 'UK', '35-44'),
  ('CUST0003', 'Grace', 'Hopper', 'grace@example.com', '(555) 010-0003', '2024-01-15', 'Arlington', 'Virginia', 'USA', '45-54');
INSERT INTO staging.products (product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id) VALUES
  ('PROD0001', 'Laptop', 'Electronics', 'Computers', 1000.00, 700.00, 'Acme', 10, 'SUP01'),
  ('PROD0002', 'T-Shirt', 'Clothing', 'Tops', 20.00, 8.00, 'Wear', 100, 'SUP02'),
  ('PROD0003', 'Novel', 'Books', 'Fiction', 15.50, 5.25, 'Pages', 0, 'SUP03');
INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, transaction_time, payment_method, shipping_address, total_amount) VALUES
  ('TXN00001', 'CUST0001', '2024-03-01', '10:00:00', 'Credit Card', '1 Main St', 960.00),
  ('TXN00002', 'CUST0002', '2024-03-02', '11:30:00', 'UPI', '2 High St', 29.45),
  ('TXN00003', 'CUST0001', '2024-04-10', '09:15:00', 'Cash on Delivery', '1 Main St', 32.50),
  ('TXN00004', 'CUST0003', '2024-12-31', '23:59:59', 'Net Banking', '3 Navy Rd', 1900.00);
INSERT INTO staging.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total) VALUES
  ('ITEM00001', 'TXN00001', 'PROD0001', 1, 1000.00, 10, 900.00),
  ('ITEM00002', 'TXN00001', 'PROD0002', 3, 20.00, 0, 60.00),
  ('ITEM00003', 'TXN00002', 'PROD0003', 2, 15.50, 5, 29.45),
  ('ITEM00004', 'TXN00003', 'PROD0002', 1, 20.00, 15, 17.00),
  ('ITEM00005', 'TXN00003', 'PROD0003', 1, 15.50, 0, 15.50),
  ('ITEM00006', 'TXN00004', 'PROD0001', 2, 1000.00, 5, 1900.00);
`;

/** Rows of the clean set per staging table. */
export const CLEAN_ROWS = { customers: 3, products: 3, transactions: 4, transaction_items: 6 } as const;
