-- Whether the per-version sums can be added to. Facts exist on this path, so empty sums mean the
-- trigger of migration 0013 emptied them: the facts changed other than by appending.
SELECT EXISTS (SELECT 1 FROM warehouse.product_performance_sums) AS known
