export { QualityChecksModule } from './quality-checks.module.js';
export { QualityChecksStage } from './quality-checks.stage.js';
export { qualityConfigSchema, type QualityConfig } from './quality-checks.config.js';
