export { AnalyticsModule } from './analytics.module.js';
export { AnalyticsStage } from './analytics.stage.js';
export { analyticsConfigSchema, type AnalyticsSettings } from './analytics.config.js';
