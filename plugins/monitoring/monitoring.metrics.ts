import { gaugeMetric } from '@pipeline/kernel';

/** The contract metrics monitoring owns (daemon.md "Metrics"): names fixed for dashboards and alerts. */
export const freshnessGauge = gaugeMetric({
  name: 'pipeline_data_freshness_seconds',
  help: 'Age of the newest row in each layer.',
  labelNames: ['layer'],
});

export const volumeAnomalyGauge = gaugeMetric({
  name: 'pipeline_volume_anomaly',
  help: 'Transaction volume of the run date against the trailing 30 days: 1 spike, -1 drop, 0 normal.',
});

/** Declared identically by the quality-checks plugin, which sets it when it scores staging. */
export const qualityScoreGauge = gaugeMetric({
  name: 'pipeline_data_quality_score',
  help: 'Latest data quality score of staging, 0..100.',
});

export const monitoringMetrics = [freshnessGauge, volumeAnomalyGauge, qualityScoreGauge];
