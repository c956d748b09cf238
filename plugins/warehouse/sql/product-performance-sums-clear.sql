-- Before the sums are taken again from every fact (first load, or forgotten sums): neither they
-- nor the rows derived from them are kept.
DELETE FROM warehouse.product_performance_sums;
DELETE FROM warehouse.agg_product_performance
