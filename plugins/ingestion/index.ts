import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { IngestionStage } from './ingestion.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [IngestionStage],
  dataFolder: 'processed',
});

export { IngestionStage } from './ingestion.stage.js';
export { ingestionConfigSchema, type IngestionSettings } from './ingestion.config.js';
