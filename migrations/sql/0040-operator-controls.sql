-- Operators in control (issue 18): a cancel request any replica can record and the holder of the
-- run reads at its next heartbeat, a `cancelled` end state, and each run's own log lines.

ALTER TABLE pipeline.runs
  ADD COLUMN cancel_requested_at timestamptz,
  ADD COLUMN cancel_requested_by text;

-- A cancelled run is neither a success nor a failure: it was stopped on purpose.
ALTER TABLE pipeline.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE pipeline.runs ADD CONSTRAINT runs_status_check
  CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned', 'interrupted', 'cancelled'));

-- The run list filters by business date; newest first with the id as a tie-break keeps pages stable.
CREATE INDEX runs_run_date_idx ON pipeline.runs (run_date);

-- Every log line a run wrote, with its stage and attempt, in the order written (seq). Bounded per
-- run by the writer; pruned with its run (ON DELETE CASCADE) by cleanup's retention of run records.
CREATE TABLE pipeline.run_logs (
  run_id  uuid NOT NULL REFERENCES pipeline.runs (id) ON DELETE CASCADE,
  seq     int NOT NULL,
  at      timestamptz NOT NULL,
  level   text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  stage   text,
  attempt int,
  message text NOT NULL,
  fields  jsonb,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_logs_stage_idx ON pipeline.run_logs (run_id, stage, attempt, seq);
