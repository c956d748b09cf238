-- Run records past retention ($1 days). Stages and attempts go with their run (ON DELETE CASCADE);
-- a run that is still running is never pruned, nor one that a kept run resumed from.
WITH old AS (
  SELECT r.id FROM pipeline.runs r
  WHERE r.status <> 'running'
    AND r.finished_at < now() - make_interval(days => $1)
    AND NOT EXISTS (SELECT 1 FROM pipeline.runs k WHERE k.resumed_from = r.id AND k.finished_at >= now() - make_interval(days => $1))
)
DELETE FROM pipeline.runs WHERE id IN (SELECT id FROM old)
