-- The run's parameters, visible to the parameterless multi-statement files that follow.
CREATE TEMP TABLE etl_settings (
  run_id               uuid NOT NULL,
  removed_at           timestamptz NOT NULL,
  budget_max           numeric NOT NULL,
  mid_max              numeric NOT NULL,
  line_total_tolerance numeric NOT NULL
) ON COMMIT DROP
