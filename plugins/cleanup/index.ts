import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { CleanupStage } from './cleanup.stage.js';

/** The plugin's manifest: what the kernel loads when `plugins:` lists this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [CleanupStage],
});

export { CleanupStage } from './cleanup.stage.js';
