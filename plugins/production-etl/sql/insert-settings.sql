-- removed_at is the run's business date (midnight UTC): re-running a date marks the same instant.
INSERT INTO etl_settings (run_id, run_date, next_date, in_order, removed_at, budget_max, mid_max, line_total_tolerance,
                          earliest_date, latest_date)
VALUES ($1::uuid, $2::date,
        (SELECT min(business_date) FROM production.business_dates WHERE business_date > $2::date),
        NOT EXISTS (SELECT 1 FROM production.business_dates WHERE business_date >= $2::date),
        ($2::date)::timestamp AT TIME ZONE 'UTC', $3, $4, $5, $6, $7)
