INSERT INTO production.products
  (product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id, profit_margin, price_category)
SELECT product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id, profit_margin, price_category
FROM etl_products
WHERE reason IS NULL AND action = 'insert'
