-- The fast pass over staging.transaction_items ($1 tolerance, $2 run date): row count, NULL/blank values per
-- mandatory field, and per other check of the table a number above 0 whenever it has failing
-- rows (see profile_customers.sql). Orphan products: a left join to the distinct product ids
-- (distinct so that a duplicated product does not count an item twice), inside this one read of
-- the largest table rather than a second read for an anti-join; production's history is probed
-- only for the items whose product is not staged. Orphan transactions are in
-- profile_transaction_sums.sql. More than two decimals as in profile_products.sql.
SELECT count(*) AS row_count,
  json_build_object(
    'item_id', count(*) FILTER (WHERE nullif(btrim(i.item_id), '') IS NULL),
    'transaction_id', count(*) FILTER (WHERE nullif(btrim(i.transaction_id), '') IS NULL),
    'product_id', count(*) FILTER (WHERE nullif(btrim(i.product_id), '') IS NULL),
    'quantity', count(*) FILTER (WHERE i.quantity IS NULL),
    'unit_price', count(*) FILTER (WHERE i.unit_price IS NULL),
    'discount_percentage', count(*) FILTER (WHERE i.discount_percentage IS NULL),
    'line_total', count(*) FILTER (WHERE i.line_total IS NULL)
  ) AS missing,
  json_build_object(
    'transaction_items_duplicate_id',
      (SELECT count(item_id) - count(DISTINCT (item_id COLLATE "C")) FROM staging.transaction_items),
    'transaction_items_orphan_product',
      count(*) FILTER (WHERE nullif(btrim(i.product_id), '') IS NOT NULL AND p.product_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM production.product_history h
                        WHERE h.product_id = i.product_id AND h.business_date < $2::date AND h.observation = 'present')),
    'transaction_items_line_total', count(*) FILTER (
      WHERE abs(i.line_total - round(i.quantity * i.unit_price * (1 - i.discount_percentage / 100), 2)) > $1::numeric),
    'transaction_items_quantity_positive', count(*) FILTER (WHERE i.quantity <= 0),
    'transaction_items_discount_range', count(*) FILTER (WHERE i.discount_percentage NOT BETWEEN 0 AND 100),
    'transaction_items_numbers_finite', count(*) FILTER (
      WHERE abs(i.unit_price) >= 1e10 OR abs(i.discount_percentage) >= 1e10 OR abs(i.line_total) >= 1e10),
    'transaction_items_numbers_exact', count(*) FILTER (
      WHERE scale(i.unit_price) > 2 OR scale(i.discount_percentage) > 2 OR scale(i.line_total) > 2)
  ) AS failing
FROM staging.transaction_items i
LEFT JOIN (SELECT DISTINCT product_id FROM staging.products) p ON p.product_id = i.product_id;
