-- The payment methods dimensions-trim-keys.sql found nothing refers to ($1).
DELETE FROM warehouse.dim_payment_method WHERE payment_method_key = ANY($1::int[])
