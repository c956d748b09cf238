-- How many staged rows each cleansing rule changed (accepted and rejected rows alike).
SELECT
  (SELECT count(*) FILTER (WHERE text_trimmed) FROM etl_customers)::int
    + (SELECT count(*) FILTER (WHERE text_trimmed) FROM etl_products)::int AS text_trimmed,
  (SELECT count(*) FILTER (WHERE name_title_cased) FROM etl_customers)::int AS name_title_cased,
  (SELECT count(*) FILTER (WHERE email_lower_cased) FROM etl_customers)::int AS email_lower_cased,
  (SELECT count(*) FILTER (WHERE phone_normalized) FROM etl_customers)::int AS phone_normalized,
  (SELECT count(*) FILTER (WHERE empty_to_null) FROM etl_customers)::int
    + (SELECT count(*) FILTER (WHERE empty_to_null) FROM etl_products)::int AS empty_to_null,
  (SELECT count(*) FILTER (WHERE reason IS NULL) FROM etl_products)::int AS profit_margin_derived,
  (SELECT count(*) FILTER (WHERE reason IS NULL) FROM etl_products)::int AS price_category_derived
