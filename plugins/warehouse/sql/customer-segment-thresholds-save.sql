INSERT INTO warehouse.customer_segment_thresholds (singleton, high_value_min_spend, medium_value_min_spend)
VALUES (true, $1::numeric, $2::numeric)
ON CONFLICT (singleton) DO UPDATE
SET high_value_min_spend = excluded.high_value_min_spend,
    medium_value_min_spend = excluded.medium_value_min_spend
