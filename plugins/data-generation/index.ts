import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { DataGenerationStage } from './data-generation.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [DataGenerationStage],
  dataFolder: 'raw',
});

export { DataGenerationStage } from './data-generation.stage.js';
export { dataGenerationConfigSchema, type DataGenerationSettings } from './data-generation.config.js';
