-- Staging's money columns and discount take any number, so that nothing is rounded on the way in.
-- As numeric(12,2) / numeric(5,2), COPY rounded 10.005 to 10.01 without a word, and the quality
-- gate never saw what the file said. Unconstrained numeric holds every value the contract's
-- types hold (a widening, as the contract allows); the gate now quarantines what production
-- cannot hold exactly (more than two decimals, 10^10 or more) or at all (NaN, Infinity),
-- and production-etl rejects it. Relaxing a numeric's typmod rewrites nothing.
ALTER TABLE staging.products
  ALTER COLUMN price TYPE numeric,
  ALTER COLUMN cost TYPE numeric;

ALTER TABLE staging.transactions
  ALTER COLUMN total_amount TYPE numeric;

ALTER TABLE staging.transaction_items
  ALTER COLUMN unit_price TYPE numeric,
  ALTER COLUMN discount_percentage TYPE numeric,
  ALTER COLUMN line_total TYPE numeric;
