-- All points on record, whatever the date: the value of pipeline_loyalty_points_awarded.
SELECT coalesce(sum(points), 0)::bigint AS points FROM loyalty.customer_points
