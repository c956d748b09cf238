import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { qualityScoreGauge } from './quality-checks.metrics.js';
import { QualityChecksStage } from './quality-checks.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [QualityChecksStage],
  // The gate checks the staged input against what production already holds (its business dates,
  // the history of customers and products, loaded transactions): tables of production-etl.
  reads: ['@pipeline/plugin-production-etl'],
  dataFolder: 'quality',
  metrics: [qualityScoreGauge],
});

export { QualityChecksStage } from './quality-checks.stage.js';
export { qualityConfigSchema, type QualityConfig } from './quality-checks.config.js';
