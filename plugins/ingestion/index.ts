import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { StagingSchema1764100000000 } from './migrations/1764100000000-staging-schema.js';
import { IngestionStage } from './ingestion.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [IngestionStage],
  migrations: [StagingSchema1764100000000],
  dataFolder: 'processed',
});

export { IngestionStage } from './ingestion.stage.js';
export { ingestionConfigSchema, type IngestionSettings } from './ingestion.config.js';
