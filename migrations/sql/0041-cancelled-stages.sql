-- A stage an operator's cancel stopped ends `cancelled`, not `failed` (and so does its attempt):
-- nothing went wrong in it, so it is neither logged as an error, listed among a run's failed
-- stages, nor reported critical by monitoring. Resume and retry start again at it.

ALTER TABLE pipeline.stage_runs DROP CONSTRAINT stage_runs_status_check;
ALTER TABLE pipeline.stage_runs ADD CONSTRAINT stage_runs_status_check
  CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'));

ALTER TABLE pipeline.stage_attempts DROP CONSTRAINT stage_attempts_outcome_check;
ALTER TABLE pipeline.stage_attempts ADD CONSTRAINT stage_attempts_outcome_check
  CHECK (outcome IN ('running', 'succeeded', 'failed', 'timeout', 'aborted', 'cancelled'));
