-- validity: products that would sell at no margin or a loss (cost >= price).
INSERT INTO pipeline.quarantine (run_id, table_name, row_id, check_name, reason, row_data)
SELECT $1::uuid, 'staging.products', r.product_id, 'products_cost_below_price', format('cost %s is not below price %s', r.cost, r.price), to_jsonb(r)
FROM staging.products r
WHERE r.cost >= r.price;
