-- Discount impact by discount percentage band. The percentage of a line is derived from the
-- fact: discount_amount / (quantity * unit_price) * 100, rounded to a whole percent to absorb
-- the cent rounding of discount_amount; a line with any discount never lands in '0%'.
-- Every band is listed, also an empty one.
WITH bands (band_order, discount_band) AS (
  VALUES (1, '0%'), (2, '1-5%'), (3, '6-10%'), (4, '11-15%'), (5, '>15%')
),
line_bands AS (
  SELECT CASE
           WHEN f.discount_amount = 0 OR g.gross_amount = 0 THEN 1
           WHEN round(f.discount_amount * 100 / g.gross_amount) <= 5 THEN 2
           WHEN round(f.discount_amount * 100 / g.gross_amount) <= 10 THEN 3
           WHEN round(f.discount_amount * 100 / g.gross_amount) <= 15 THEN 4
           ELSE 5
         END                        AS band_order,
         f.transaction_id,
         f.quantity,
         g.gross_amount,
         f.discount_amount,
         f.line_total,
         f.profit
  FROM warehouse.fact_sales f
  CROSS JOIN LATERAL (SELECT f.quantity * f.unit_price AS gross_amount) g
),
band_sales AS (
  SELECT band_order,
         count(*)                                    AS line_items,
         count(DISTINCT transaction_id COLLATE "C")  AS transactions,
         sum(quantity)                               AS units_sold,
         sum(gross_amount)                           AS gross_amount,
         sum(discount_amount)                        AS discount_amount,
         sum(line_total)                             AS line_total,
         sum(profit)                                 AS profit
  FROM line_bands
  GROUP BY band_order
)
SELECT b.discount_band,
       coalesce(l.line_items, 0)                                               AS line_items,
       coalesce(l.transactions, 0)                                             AS transactions,
       coalesce(l.units_sold, 0)                                               AS units_sold,
       coalesce(l.gross_amount, 0.00)                                          AS gross_revenue,
       coalesce(l.discount_amount, 0.00)                                       AS discount_total,
       coalesce(l.line_total, 0.00)                                            AS net_revenue,
       coalesce(l.profit, 0.00)                                                AS profit,
       round(l.discount_amount * 100 / NULLIF(l.gross_amount, 0), 2)           AS avg_discount_pct,
       round(l.profit * 100 / NULLIF(l.line_total, 0), 2)                      AS profit_margin_pct,
       round(coalesce(l.line_total, 0.00) * 100 / NULLIF(sum(l.line_total) OVER (), 0), 2) AS revenue_share_pct
FROM bands b
LEFT JOIN band_sales l ON l.band_order = b.band_order
ORDER BY b.band_order;
