export { DataGenerationModule } from './data-generation.module.js';
export { DataGenerationStage } from './data-generation.stage.js';
export { dataGenerationConfigSchema, type DataGenerationSettings } from './data-generation.config.js';
