-- One row per calendar day from the earliest to the latest transaction date in production,
-- days without sales included (reports show them as zero, not as a gap), within the days the
-- calendar may hold ($1 .. $2, dim-date-bounds.sql): the sales dated outside are set aside. Integer arithmetic on
-- dates keeps the series independent of the session time zone. Days already present stay as
-- they are, so the table only grows as new dates arrive.
INSERT INTO warehouse.dim_date (date_key, full_date, year, quarter, month, day, month_name, day_name, week_of_year, is_weekend)
SELECT to_char(d, 'YYYYMMDD')::int,
       d,
       extract(year FROM d)::int,
       extract(quarter FROM d)::int,
       extract(month FROM d)::int,
       extract(day FROM d)::int,
       to_char(d, 'FMMonth'),
       to_char(d, 'FMDay'),
       extract(week FROM d)::int,
       extract(isodow FROM d) IN (6, 7)
FROM (SELECT min(transaction_date) AS first_day, max(transaction_date) AS last_day
      FROM production.transactions
      WHERE transaction_date BETWEEN $1::date AND $2::date) span
CROSS JOIN LATERAL generate_series(0, span.last_day - span.first_day) AS n(offset_days)
CROSS JOIN LATERAL (SELECT span.first_day + n.offset_days AS d) day
WHERE NOT EXISTS (SELECT 1 FROM warehouse.dim_date existing WHERE existing.full_date = day.d)
ORDER BY d
ON CONFLICT DO NOTHING
