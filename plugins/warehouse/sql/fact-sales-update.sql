-- Facts that differ from what they must be: keys of a member whose versions changed from their
-- date on, or a line corrected in production. The surrogate key and created_at stay.
UPDATE warehouse.fact_sales f
SET transaction_id = t.transaction_id,
    date_key = t.date_key,
    customer_key = t.customer_key,
    product_key = t.product_key,
    payment_method_key = t.payment_method_key,
    quantity = t.quantity,
    unit_price = t.unit_price,
    discount_amount = t.discount_amount,
    discount_percentage = t.discount_percentage,
    line_total = t.line_total,
    profit = t.profit
FROM warehouse_fact_targets t
WHERE t.action = 'update' AND f.sales_key = t.sales_key
