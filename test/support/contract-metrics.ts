/** The metric names daemon.md fixes as a contract for dashboards and alerts. */
export const CONTRACT_METRIC_NAMES: readonly string[] = [
  'pipeline_runs_total',
  'pipeline_run_duration_seconds',
  'pipeline_stage_duration_seconds',
  'pipeline_stage_attempts_total',
  'pipeline_rows_total',
  'pipeline_last_success_timestamp_seconds',
  'pipeline_data_quality_score',
  'pipeline_data_freshness_seconds',
  'pipeline_lock_held',
  'pipeline_lock_contended_total',
  'pipeline_volume_anomaly',
];
