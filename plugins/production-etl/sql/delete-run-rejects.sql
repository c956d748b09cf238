-- A retried attempt of the same run replaces its rejects instead of adding a second copy.
DELETE FROM production.rejected_rows WHERE run_id = $1::uuid
