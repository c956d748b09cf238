-- The per-day, per-line summaries of the touched days (analytics_touched_days: the days new
-- facts fell on and the days of recategorised products when refreshing; every day when
-- rebuilding), each recomputed from all of its days' lines. A transaction has one date, so its
-- distinct counts per day add up over days.

-- A line's discount band: its percentage, discount_amount / (quantity x unit_price), rounded to a
-- whole percent to absorb the cent rounding of the line total (discount_amount is the gross amount
-- less line_total); a line with a discount of a cent or more is never '0%'. The gross amount is
-- summed with the discounts and line totals, and equals their sum in every band and day.
DELETE FROM analytics.daily_discount_band_sales
WHERE date_key IN (SELECT date_key FROM analytics_touched_days);
-- OFFSET 0 keeps each line's gross amount and percentage computed once (inlined, the numeric
-- product and division ran once per reference: half of this statement's time at 300k lines;
-- 2.1-2.2 s before, 1.8-1.9 s after).
INSERT INTO analytics.daily_discount_band_sales
SELECT date_key, band_order,
       count(*), count(DISTINCT transaction_id), sum(quantity),
       sum(gross_amount), sum(discount_amount), sum(line_total), sum(profit)
FROM (SELECT l.*,
             CASE
               WHEN l.discount_amount = 0 OR l.gross_amount = 0 THEN 1
               WHEN l.pct <= 5 THEN 2
               WHEN l.pct <= 10 THEN 3
               WHEN l.pct <= 15 THEN 4
               ELSE 5
             END AS band_order
      FROM (SELECT g.*,
                   CASE WHEN g.gross_amount <> 0 THEN round(g.discount_amount * 100 / g.gross_amount) END AS pct
            FROM (SELECT f.date_key, f.transaction_id COLLATE "C" AS transaction_id, f.quantity,
                         f.quantity * f.unit_price AS gross_amount, f.discount_amount, f.line_total, f.profit
                  FROM warehouse.fact_sales f
                  WHERE f.date_key IN (SELECT date_key FROM analytics_touched_days)
                  OFFSET 0) g
            OFFSET 0) l) banded
GROUP BY date_key, band_order
ORDER BY date_key, band_order;

-- Category as the product version has it now; analytics.product_categories (finish.sql) records
-- it, so that a later in-place correction brings these days back into analytics_touched_days.
DELETE FROM analytics.daily_category_transactions
WHERE date_key IN (SELECT date_key FROM analytics_touched_days);
INSERT INTO analytics.daily_category_transactions
SELECT f.date_key, p.category, count(DISTINCT f.transaction_id COLLATE "C")
FROM warehouse.fact_sales f
JOIN warehouse.dim_products p ON p.product_key = f.product_key
WHERE f.date_key IN (SELECT date_key FROM analytics_touched_days)
GROUP BY f.date_key, p.category
ORDER BY f.date_key, p.category;

RESET enable_indexscan;
RESET enable_bitmapscan;
