import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { AnalyticsSchema1764100000000 } from './migrations/1764100000000-analytics-schema.js';
import { AnalyticsCitusLayout1764100060000 } from './migrations/1764100060000-citus-layout.js';
import { AnalyticsStage } from './analytics.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [AnalyticsStage],
  migrations: [AnalyticsSchema1764100000000, AnalyticsCitusLayout1764100060000],
  dataFolder: 'processed/analytics',
});

export { AnalyticsStage } from './analytics.stage.js';
export { analyticsConfigSchema, type AnalyticsSettings } from './analytics.config.js';
