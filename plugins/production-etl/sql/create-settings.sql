-- JIT compilation costs seconds on these few large set-based statements and saves far less
-- (measured: 1.9 s of JIT in one 5.6 s statement at 300k items); for this transaction only.
SET LOCAL jit = off;

-- The run's parameters, visible to the parameterless multi-statement files that follow.
-- run_date is the business date whose input this is; next_date the first business date after it
-- that production already holds (NULL when the run is the latest: the usual daily case).
CREATE TEMP TABLE etl_settings (
  run_id               uuid NOT NULL,
  run_date             date NOT NULL,
  next_date            date,
  -- Whether production holds no business date on or after run_date: the daily case, where the
  -- state before run_date is what production's rows mirror.
  in_order             boolean NOT NULL,
  removed_at           timestamptz NOT NULL,
  budget_max           numeric NOT NULL,
  mid_max              numeric NOT NULL,
  line_total_tolerance numeric NOT NULL,
  -- The limits every business date must keep (libs/contract/business-dates.ts).
  earliest_date        date NOT NULL,
  latest_date          date NOT NULL
) ON COMMIT DROP;
