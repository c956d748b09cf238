-- The production products created or changed since the latest run that added facts ($1), shaped
-- as dimension rows (see dim-customers-changes-collect.sql).
CREATE TEMP TABLE warehouse_product_changes ON COMMIT DROP AS
SELECT product_id,
       product_name,
       category,
       sub_category,
       brand,
       price_category AS price_range,
       is_active
FROM production.products
WHERE greatest(created_at, updated_at) >= $1::timestamptz
