-- The newest run that finished successfully (the current run is still 'running').
SELECT id::text AS run_id, run_date::text AS run_date, finished_at
FROM pipeline.runs
WHERE status = 'succeeded' AND finished_at IS NOT NULL
ORDER BY finished_at DESC, id
LIMIT 1;
