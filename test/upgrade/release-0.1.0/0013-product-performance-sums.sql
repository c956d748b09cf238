-- The sums warehouse.agg_product_performance is derived from, per product version: a daily run
-- adds its new facts to them and derives the touched rows, instead of reading every fact of every
-- product it touches. Those facts lie all over fact_sales (it is in item_id order), so on a 1M
-- warehouse whose pages the machine had evicted that read took 59.7 s of a 117.8 s daily run.
-- avg_discount_percentage needs the line count and the sum of the rates: an average rounded to
-- two places cannot be added to. Sums of numerics are exact, so the derived rows equal a fresh
-- GROUP BY over fact_sales.
CREATE TABLE warehouse.product_performance_sums (
  product_key             bigint PRIMARY KEY,
  line_count              bigint NOT NULL,
  quantity_sum            bigint NOT NULL,
  line_total_sum          numeric NOT NULL,
  profit_sum              numeric NOT NULL,
  discount_percentage_sum numeric NOT NULL
);

-- Left empty here: the next warehouse run finds no sums beside facts and takes them, and every
-- aggregate row, from all the facts, as after the trigger below.

-- Facts are append-only. Anything else done to them (an UPDATE, a DELETE such as an erasure
-- request, a TRUNCATE) empties the sums in the same transaction, for the same rebuild.
CREATE FUNCTION warehouse.forget_product_performance_sums() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM warehouse.product_performance_sums;
  RETURN NULL;
END;
$$;

CREATE TRIGGER fact_sales_changed_forget_product_sums
  AFTER UPDATE OR DELETE ON warehouse.fact_sales
  FOR EACH STATEMENT EXECUTE FUNCTION warehouse.forget_product_performance_sums();
CREATE TRIGGER fact_sales_truncated_forget_product_sums
  AFTER TRUNCATE ON warehouse.fact_sales
  FOR EACH STATEMENT EXECUTE FUNCTION warehouse.forget_product_performance_sums();
