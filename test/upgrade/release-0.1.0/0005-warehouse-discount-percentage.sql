-- The discount rate of each sale, kept on the fact so that agg_product_performance's
-- avg_discount_percentage is exact: deriving it back from the rounded discount_amount is not
-- (5 % of 0.99 rounds to 0.05, which reads as 5.05 %).
ALTER TABLE warehouse.fact_sales ADD COLUMN discount_percentage numeric(5,2);

UPDATE warehouse.fact_sales f
SET discount_percentage = i.discount_percentage
FROM production.transaction_items i
WHERE i.item_id = f.item_id;

-- A fact whose item left production keeps the rate it implies (the best that can be known).
UPDATE warehouse.fact_sales
SET discount_percentage = CASE WHEN quantity * unit_price = 0 THEN 0
                               ELSE round(discount_amount / (quantity * unit_price) * 100, 2) END
WHERE discount_percentage IS NULL;

ALTER TABLE warehouse.fact_sales ALTER COLUMN discount_percentage SET NOT NULL;
ALTER TABLE warehouse.fact_sales ADD CONSTRAINT fact_sales_discount_percentage_check
  CHECK (discount_percentage BETWEEN 0 AND 100);
