export { MonitoringModule } from './monitoring.module.js';
export { MonitoringStage, MONITORING_REPORT_FILE } from './monitoring.stage.js';
export { monitoringConfigSchema, type MonitoringSettings } from './monitoring.config.js';
export type { Alert, HealthStatus, Severity } from './health-report.js';
