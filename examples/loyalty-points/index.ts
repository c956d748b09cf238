import { definePlugin } from '@pipeline/kernel';
import pkg from './package.json' with { type: 'json' };
import { LoyaltySchema1766200000000 } from './migrations/1766200000000-loyalty-schema.js';
import { loyaltyMetrics } from './loyalty.metrics.js';
import { LoyaltyPointsStage } from './loyalty-points.stage.js';

/** The manifest the daemon loads when its `plugins:` list names this package. */
export default definePlugin({
  name: pkg.name,
  version: pkg.version,
  kernelApi: pkg.peerDependencies['@pipeline/kernel'],
  stages: [LoyaltyPointsStage],
  migrations: [LoyaltySchema1766200000000],
  metrics: loyaltyMetrics,
});
