UPDATE production.products p
SET product_name = c.product_name,
    category = c.category,
    sub_category = c.sub_category,
    price = c.price,
    cost = c.cost,
    brand = c.brand,
    stock_quantity = c.stock_quantity,
    supplier_id = c.supplier_id,
    profit_margin = c.profit_margin,
    price_category = c.price_category,
    is_active = true,
    removed_at = NULL,
    updated_at = now()
FROM etl_products c
WHERE c.reason IS NULL AND c.action IN ('update', 'reactivate') AND p.product_id = c.product_id
