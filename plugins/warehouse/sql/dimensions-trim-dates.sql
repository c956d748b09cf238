-- The days dimensions-trim-keys.sql found nothing refers to ($1).
DELETE FROM warehouse.dim_date WHERE date_key = ANY($1::int[])
