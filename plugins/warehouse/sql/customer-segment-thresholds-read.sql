-- The thresholds of the segments the warehouse holds ($1 = high, $2 = medium): true when they
-- equal this run's.
SELECT EXISTS (SELECT 1 FROM warehouse.customer_segment_thresholds
               WHERE high_value_min_spend = $1::numeric AND medium_value_min_spend = $2::numeric) AS same
