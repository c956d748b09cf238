-- What each target item's fact must be (keys and profit looked up as of its sale date, see
-- lookup-spans.sql), next to the fact as it is, and what to do about it: insert (no fact yet),
-- update (the fact differs: a corrected line, or a sale of a member whose versions changed),
-- delete (the item left production), or nothing. A NULL key on an insert or update is a lookup
-- miss, reported before anything is written (fact-lookup-misses.sql).
CREATE TEMP TABLE warehouse_fact_targets ON COMMIT DROP AS
SELECT x.item_id,
       s.transaction_id, s.transaction_date, s.customer_id, s.product_id, s.payment_method,
       s.quantity, s.unit_price, s.discount_percentage, s.line_total,
       -- What the line total leaves of the gross amount, so the two add up to it exactly; rounded
       -- apart, they missed it by a cent on thousands of lines.
       s.quantity * s.unit_price - s.line_total AS discount_amount,
       s.line_total - s.quantity * pc.cost AS profit,
       s.transaction_created_at,
       dd.date_key, cs.customer_key, ps.product_key, pm.payment_method_key,
       f.sales_key,
       f.transaction_id AS old_transaction_id, f.date_key AS old_date_key, f.customer_key AS old_customer_key,
       f.product_key AS old_product_key, f.payment_method_key AS old_payment_method_key,
       f.quantity AS old_quantity, f.line_total AS old_line_total, f.profit AS old_profit,
       f.discount_percentage AS old_discount_percentage,
       CASE
         WHEN s.item_id IS NULL THEN CASE WHEN f.sales_key IS NULL THEN 'none' ELSE 'delete' END
         WHEN f.sales_key IS NULL THEN 'insert'
         WHEN (f.transaction_id, f.date_key, f.customer_key, f.product_key, f.payment_method_key, f.quantity, f.unit_price,
               f.discount_amount, f.discount_percentage, f.line_total, f.profit)
              IS DISTINCT FROM
              (s.transaction_id, dd.date_key, cs.customer_key, ps.product_key, pm.payment_method_key, s.quantity, s.unit_price,
               s.quantity * s.unit_price - s.line_total, s.discount_percentage, s.line_total,
               s.line_total - s.quantity * pc.cost)
           THEN 'update'
         ELSE 'none'
       END AS action
FROM warehouse_target_items x
LEFT JOIN warehouse_target_sales s ON s.item_id = x.item_id
LEFT JOIN warehouse.fact_sales f ON f.item_id = x.item_id
LEFT JOIN warehouse.dim_date dd ON dd.full_date = s.transaction_date
LEFT JOIN warehouse_customer_spans cs
       ON cs.customer_id = s.customer_id AND cs.from_date <= s.transaction_date AND s.transaction_date < cs.to_date
LEFT JOIN warehouse_product_spans ps
       ON ps.product_id = s.product_id AND ps.from_date <= s.transaction_date AND s.transaction_date < ps.to_date
LEFT JOIN warehouse_product_costs pc
       ON pc.product_id = s.product_id AND pc.from_date <= s.transaction_date AND s.transaction_date < pc.to_date
LEFT JOIN warehouse.dim_payment_method pm ON pm.payment_method_name = s.payment_method;
ANALYZE warehouse_fact_targets;
