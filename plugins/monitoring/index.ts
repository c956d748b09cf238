import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { monitoringMetrics } from './monitoring.metrics.js';
import { MonitoringStage } from './monitoring.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [MonitoringStage],
  dataFolder: 'processed',
  metrics: monitoringMetrics,
});

export { MonitoringStage, MONITORING_REPORT_FILE } from './monitoring.stage.js';
export { monitoringConfigSchema, type MonitoringSettings } from './monitoring.config.js';
export type { Alert, HealthStatus, Severity } from './health-report.js';
