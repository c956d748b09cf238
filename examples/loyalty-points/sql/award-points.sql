-- Points per customer and business date, from the warehouse's facts up to the run's business date:
-- one point per whole $2 of what the customer paid that day (line totals, after discounts). A day
-- whose returns outweigh its purchases earns nothing rather than taking points away.
-- Returns what was written, for the run report and the metric.
WITH awarded AS (
    INSERT INTO loyalty.customer_points (customer_id, business_date, spend, points)
    SELECT c.customer_id,
           d.full_date,
           greatest(sum(f.line_total), 0),
           floor(greatest(sum(f.line_total), 0) / $2::numeric)::integer
      FROM warehouse.fact_sales f
      JOIN warehouse.dim_date d ON d.date_key = f.date_key
      JOIN warehouse.dim_customers c ON c.customer_key = f.customer_key
     WHERE d.full_date <= $1::date
     GROUP BY c.customer_id, d.full_date
    RETURNING points
)
SELECT count(*)::integer AS rows, coalesce(sum(points), 0)::bigint AS points FROM awarded
