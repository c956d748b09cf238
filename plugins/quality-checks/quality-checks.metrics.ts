import { gaugeMetric } from '@pipeline/kernel';

/**
 * `pipeline_data_quality_score`, a contract metric. Monitoring declares it identically and keeps
 * it current between runs; the gate sets it the moment it has scored staging.
 */
export const qualityScoreGauge = gaugeMetric({
  name: 'pipeline_data_quality_score',
  help: 'Latest data quality score of staging, 0..100.',
});
