export { ProductionEtlModule } from './production-etl.module.js';
export { ProductionEtlStage, PRODUCTION_ETL_STAGE } from './production-etl.stage.js';
export { productionEtlConfigSchema, type ProductionEtlSettings } from './production-etl.config.js';
export type { TransformationSummary } from './transformation-summary.js';
