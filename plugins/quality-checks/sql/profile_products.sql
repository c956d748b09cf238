-- The fast pass over staging.products: row count, NULL/blank values per mandatory field, and per
-- other check of the table a number above 0 whenever it has failing rows (see
-- profile_customers.sql for how the numbers are used and why duplicates are counted this way).
-- More than two decimals: scale() counts the decimals as written, a superset of the check's
-- min_scale() (10.500 is exact at two) at half its cost (3M values: about 65 ms instead of 125
-- ms); a value written with trailing zeros only makes the check's own statement run, which then
-- finds nothing.
SELECT count(*) AS row_count,
  json_build_object(
    'product_id', count(*) FILTER (WHERE nullif(btrim(product_id), '') IS NULL),
    'product_name', count(*) FILTER (WHERE nullif(btrim(product_name), '') IS NULL),
    'category', count(*) FILTER (WHERE nullif(btrim(category), '') IS NULL),
    'price', count(*) FILTER (WHERE price IS NULL),
    'cost', count(*) FILTER (WHERE cost IS NULL)
  ) AS missing,
  json_build_object(
    'products_duplicate_id',
      (SELECT count(product_id) - count(DISTINCT (product_id COLLATE "C")) FROM staging.products),
    'products_price_positive', count(*) FILTER (WHERE price <= 0),
    'products_cost_non_negative', count(*) FILTER (WHERE cost < 0),
    'products_cost_below_price', count(*) FILTER (WHERE cost >= price),
    'products_stock_non_negative', count(*) FILTER (WHERE stock_quantity < 0),
    'products_numbers_finite', count(*) FILTER (WHERE abs(price) >= 1e10 OR abs(cost) >= 1e10),
    'products_numbers_exact', count(*) FILTER (WHERE scale(price) > 2 OR scale(cost) > 2)
  ) AS failing
FROM staging.products;
