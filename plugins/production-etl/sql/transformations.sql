-- How many staged rows each cleansing rule changed (accepted and rejected rows alike). One scan
-- per table: a scalar subquery per rule scanned a 100k-customer snapshot five times.
SELECT c.text_trimmed + p.text_trimmed AS text_trimmed,
       c.name_title_cased,
       c.email_lower_cased,
       c.phone_normalized,
       c.empty_to_null + p.empty_to_null AS empty_to_null,
       p.derived AS profit_margin_derived,
       p.derived AS price_category_derived
FROM (SELECT count(*) FILTER (WHERE text_trimmed)::int     AS text_trimmed,
             count(*) FILTER (WHERE name_title_cased)::int  AS name_title_cased,
             count(*) FILTER (WHERE email_lower_cased)::int AS email_lower_cased,
             count(*) FILTER (WHERE phone_normalized)::int  AS phone_normalized,
             count(*) FILTER (WHERE empty_to_null)::int     AS empty_to_null
      FROM etl_customers) c
CROSS JOIN (SELECT count(*) FILTER (WHERE text_trimmed)::int  AS text_trimmed,
                   count(*) FILTER (WHERE empty_to_null)::int AS empty_to_null,
                   count(*) FILTER (WHERE reason IS NULL)::int AS derived
            FROM etl_products) p
