export { IngestionModule } from './ingestion.module.js';
export { IngestionStage } from './ingestion.stage.js';
export { ingestionConfigSchema, type IngestionSettings } from './ingestion.config.js';
