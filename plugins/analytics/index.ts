import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { AnalyticsStage } from './analytics.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [AnalyticsStage],
  dataFolder: 'processed/analytics',
});

export { AnalyticsStage } from './analytics.stage.js';
export { analyticsConfigSchema, type AnalyticsSettings } from './analytics.config.js';
