import { gaugeMetric } from '@pipeline/kernel';

/**
 * Points on record after the last run. A gauge, not a counter: a run that recomputes a date
 * (retry, backfill) must not count its points twice.
 */
export const pointsAwardedGauge = gaugeMetric({
  name: 'pipeline_loyalty_points_awarded',
  help: 'Loyalty points on record in loyalty.customer_points after the last run',
});

export const loyaltyMetrics = [pointsAwardedGauge];
