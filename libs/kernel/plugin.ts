import semver from 'semver';
import { z } from 'zod';
import { stageOptionsOf } from './stage.decorator.js';
import type { PipelineStage } from './stage.js';

/** A stage class: decorated with `@Stage(...)`, built by the kernel with no arguments. */
export type StageClass = new () => PipelineStage<never>;

/**
 * What a plugin package exports as its default: who it is, the kernel API it is written
 * against, and what it brings. The kernel reads nothing else of the package.
 *
 * @example
 * ```ts
 * import pkg from './package.json' with { type: 'json' };
 * export default definePlugin({
 *   name: pkg.name,
 *   version: pkg.version,
 *   kernelApi: pkg.peerDependencies['@pipeline/kernel'],
 *   stages: [LoyaltyPointsStage],
 * });
 * ```
 */
export interface PluginManifest {
  /** The package name (`@acme/pipeline-loyalty`). */
  readonly name: string;
  /** The package version (semver). */
  readonly version: string;
  /** The range of kernel API versions (`KERNEL_API_VERSION`) this plugin works with: `^1.0.0`. */
  readonly kernelApi: string;
  /** Its stages; the kernel orders them with every other plugin's by their `dependsOn`. */
  readonly stages: readonly StageClass[];
}

/** Typed identity: lets an editor check a manifest where it is written. */
export function definePlugin(manifest: PluginManifest): PluginManifest {
  return manifest;
}

/** The shape a default export must have to be taken as a manifest. */
export const pluginManifestSchema = z.object({
  name: z.string().regex(/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/, 'expected an npm package name'),
  version: z.string().refine((v) => semver.valid(v) !== null, 'expected a semver version such as 1.2.0'),
  kernelApi: z
    .string()
    .refine((r) => semver.validRange(r) !== null, 'expected a semver range such as ^1.0.0'),
  stages: z.array(
    z.custom<StageClass>(
      (v) => typeof v === 'function' && stageOptionsOf(v) !== undefined,
      'expected a class decorated with @Stage',
    ),
  ),
});
