-- One scan per staging table: its row count (the rows every check of the table examined) and, per
-- mandatory field, how many rows have it NULL or blank (the report's per-column completeness counts).
SELECT 'customers' AS table_name, count(*) AS row_count, json_build_object(
    'customer_id', count(*) FILTER (WHERE nullif(btrim(customer_id), '') IS NULL),
    'first_name', count(*) FILTER (WHERE nullif(btrim(first_name), '') IS NULL),
    'last_name', count(*) FILTER (WHERE nullif(btrim(last_name), '') IS NULL),
    'email', count(*) FILTER (WHERE nullif(btrim(email), '') IS NULL),
    'registration_date', count(*) FILTER (WHERE registration_date IS NULL)
  ) AS missing
FROM staging.customers
UNION ALL
SELECT 'products' AS table_name, count(*) AS row_count, json_build_object(
    'product_id', count(*) FILTER (WHERE nullif(btrim(product_id), '') IS NULL),
    'product_name', count(*) FILTER (WHERE nullif(btrim(product_name), '') IS NULL),
    'category', count(*) FILTER (WHERE nullif(btrim(category), '') IS NULL),
    'price', count(*) FILTER (WHERE price IS NULL),
    'cost', count(*) FILTER (WHERE cost IS NULL)
  ) AS missing
FROM staging.products
UNION ALL
SELECT 'transactions' AS table_name, count(*) AS row_count, json_build_object(
    'transaction_id', count(*) FILTER (WHERE nullif(btrim(transaction_id), '') IS NULL),
    'customer_id', count(*) FILTER (WHERE nullif(btrim(customer_id), '') IS NULL),
    'transaction_date', count(*) FILTER (WHERE transaction_date IS NULL),
    'payment_method', count(*) FILTER (WHERE nullif(btrim(payment_method), '') IS NULL),
    'total_amount', count(*) FILTER (WHERE total_amount IS NULL)
  ) AS missing
FROM staging.transactions
UNION ALL
SELECT 'transaction_items' AS table_name, count(*) AS row_count, json_build_object(
    'item_id', count(*) FILTER (WHERE nullif(btrim(item_id), '') IS NULL),
    'transaction_id', count(*) FILTER (WHERE nullif(btrim(transaction_id), '') IS NULL),
    'product_id', count(*) FILTER (WHERE nullif(btrim(product_id), '') IS NULL),
    'quantity', count(*) FILTER (WHERE quantity IS NULL),
    'unit_price', count(*) FILTER (WHERE unit_price IS NULL),
    'discount_percentage', count(*) FILTER (WHERE discount_percentage IS NULL),
    'line_total', count(*) FILTER (WHERE line_total IS NULL)
  ) AS missing
FROM staging.transaction_items;
