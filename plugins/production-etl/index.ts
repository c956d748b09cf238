import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { ProductionSchema1764100000000 } from './migrations/1764100000000-production-schema.js';
import { ProductionCitusLayout1764100060000 } from './migrations/1764100060000-citus-layout.js';
import { ProductionEtlStage } from './production-etl.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [ProductionEtlStage],
  migrations: [ProductionSchema1764100000000, ProductionCitusLayout1764100060000],
  dataFolder: 'production',
});

export { ProductionEtlStage, PRODUCTION_ETL_STAGE } from './production-etl.stage.js';
export { productionEtlConfigSchema, type ProductionEtlSettings } from './production-etl.config.js';
export type { TransformationSummary } from './transformation-summary.js';
