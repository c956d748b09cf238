-- Discount impact by discount percentage band. The percentage of a line is derived from the
-- fact: discount_amount / (quantity * unit_price) * 100, rounded to a whole percent to absorb
-- the cent rounding of discount_amount; a line with any discount never lands in '0%'.
-- Every band is listed, also an empty one.
WITH bands (band_order, discount_band) AS (
  VALUES (1, '0%'), (2, '1-5%'), (3, '6-10%'), (4, '11-15%'), (5, '>15%')
),
line_bands AS (
  SELECT CASE
           WHEN f.discount_amount = 0 OR f.quantity * f.unit_price = 0 THEN 1
           WHEN round(f.discount_amount * 100 / (f.quantity * f.unit_price)) <= 5 THEN 2
           WHEN round(f.discount_amount * 100 / (f.quantity * f.unit_price)) <= 10 THEN 3
           WHEN round(f.discount_amount * 100 / (f.quantity * f.unit_price)) <= 15 THEN 4
           ELSE 5
         END                        AS band_order,
         f.transaction_id,
         f.quantity,
         f.quantity * f.unit_price  AS gross_amount,
         f.discount_amount,
         f.line_total,
         f.profit
  FROM warehouse.fact_sales f
)
SELECT b.discount_band,
       count(l.band_order)                                                   AS line_items,
       count(DISTINCT l.transaction_id)                                      AS transactions,
       coalesce(sum(l.quantity), 0)                                          AS units_sold,
       coalesce(sum(l.gross_amount), 0.00)                                   AS gross_revenue,
       coalesce(sum(l.discount_amount), 0.00)                                AS discount_total,
       coalesce(sum(l.line_total), 0.00)                                     AS net_revenue,
       coalesce(sum(l.profit), 0.00)                                         AS profit,
       round(sum(l.discount_amount) * 100 / NULLIF(sum(l.gross_amount), 0), 2) AS avg_discount_pct,
       round(sum(l.profit) * 100 / NULLIF(sum(l.line_total), 0), 2)          AS profit_margin_pct,
       round(coalesce(sum(l.line_total), 0.00) * 100 / NULLIF(sum(sum(l.line_total)) OVER (), 0), 2) AS revenue_share_pct
FROM bands b
LEFT JOIN line_bands l ON l.band_order = b.band_order
GROUP BY b.band_order, b.discount_band
ORDER BY b.band_order;
