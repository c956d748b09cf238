-- Discount impact by discount percentage band. The percentage of a line is derived from the
-- fact: discount_amount / (quantity * unit_price) * 100, rounded to a whole percent to absorb
-- the cent rounding of the line total; a line with a discount of a cent or more never lands in
-- '0%' (the bands are assigned per line in summaries/days.sql). discount_amount is the gross
-- amount less line_total, so gross_revenue = discount_total + net_revenue in every band and in
-- total. Transactions are distinct per day
-- and band, and add up over days (a transaction has one date). Every band is listed, also an
-- empty one.
WITH bands (band_order, discount_band) AS (
  VALUES (1, '0%'), (2, '1-5%'), (3, '6-10%'), (4, '11-15%'), (5, '>15%')
),
band_sales AS (
  SELECT band_order,
         sum(line_items)      AS line_items,
         sum(transactions)    AS transactions,
         sum(units_sold)      AS units_sold,
         sum(gross_amount)    AS gross_amount,
         sum(discount_amount) AS discount_amount,
         sum(line_total)      AS line_total,
         sum(profit)          AS profit
  FROM analytics.daily_discount_band_sales
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
