-- discount_amount is now quantity * unit_price - line_total (plugins/warehouse/README.md), so that
-- a line's discount and total add up to its gross amount. Before, each was rounded to cents on its
-- own, and the two missed the gross amount by a cent on thousands of lines. Facts loaded earlier
-- get the same definition here. The statement triggers on fact_sales (migrations 0012, 0013) then
-- make the next warehouse and analytics runs recompute their aggregates and summaries from all
-- the facts, as after any other change to facts.
UPDATE warehouse.fact_sales
SET discount_amount = quantity * unit_price - line_total
WHERE discount_amount <> quantity * unit_price - line_total;
