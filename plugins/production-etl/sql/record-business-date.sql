-- This business date is loaded (the dates production holds: what classification compares each
-- snapshot with, and what the next date's run follows).
INSERT INTO production.business_dates (business_date, run_id)
SELECT run_date, run_id FROM etl_settings
ON CONFLICT (business_date) DO UPDATE SET run_id = excluded.run_id, loaded_at = now()
