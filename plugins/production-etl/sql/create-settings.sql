-- JIT compilation costs seconds on these few large set-based statements and saves far less
-- (measured: 1.9 s of JIT in one 5.6 s statement at 300k items); for this transaction only.
SET LOCAL jit = off;

-- The run's parameters, visible to the parameterless multi-statement files that follow.
CREATE TEMP TABLE etl_settings (
  run_id               uuid NOT NULL,
  removed_at           timestamptz NOT NULL,
  budget_max           numeric NOT NULL,
  mid_max              numeric NOT NULL,
  line_total_tolerance numeric NOT NULL,
  -- The limits every business date must keep (libs/contract/business-dates.ts).
  earliest_date        date NOT NULL,
  latest_date          date NOT NULL
) ON COMMIT DROP;
