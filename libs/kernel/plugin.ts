import semver from 'semver';
import { z } from 'zod';
import type { MigrationClass } from '../database/index.js';
import type { MetricDefinition } from '../metrics/index.js';
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
  /**
   * Its schema's migrations (TypeORM, usually `SqlFileMigration`s), oldest first: `pipeline
   * migrate` applies them after those of the plugins its stages depend on, with a history of its
   * own (`pipeline.migrations_<package>`).
   */
  readonly migrations?: readonly MigrationClass[];
  /** The metrics it owns (`gaugeMetric(...)`, ...): created at start-up, reached with `ctx.metrics.get`. */
  readonly metrics?: readonly MetricDefinition[];
  /**
   * The packages whose tables its SQL reads although none of its stages depends on theirs
   * (quality-checks compares the staged input with production's history, which production-etl,
   * a later stage, owns). Start-up refuses the plugin, naming both packages, unless they are
   * loaded too: a missing one would otherwise show up only as a run failing on a missing table.
   */
  readonly reads?: readonly string[];
  /**
   * Its own folder under the data folder (`ctx.paths.own`), relative: `quality`,
   * `processed/analytics`. Without one its stages get the data folder itself.
   */
  readonly dataFolder?: string;
}

/** Typed identity: lets an editor check a manifest where it is written. */
export function definePlugin(manifest: PluginManifest): PluginManifest {
  return manifest;
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** The shape a default export must have to be taken as a manifest. */
export const pluginManifestSchema = z.object({
  name: z.string().regex(PACKAGE_NAME, 'expected an npm package name'),
  version: z.string().refine((v) => semver.valid(v) !== null, 'expected a semver version such as 1.2.0'),
  kernelApi: z
    .string()
    .refine((r) => semver.validRange(r) !== null, 'expected a semver range such as ^1.0.0'),
  reads: z.array(z.string().regex(PACKAGE_NAME, 'expected an npm package name')).optional(),
  dataFolder: z
    .string()
    .refine(
      (p) => p.length > 0 && !p.startsWith('/') && !p.split(/[\\/]/).includes('..'),
      'expected a folder relative to the data folder, inside it',
    )
    .optional(),
  migrations: z
    .array(
      z.custom<MigrationClass>(
        (v) =>
          typeof v === 'function' &&
          typeof (v as { prototype?: { up?: unknown } }).prototype?.up === 'function',
        'expected a migration class (with an up method)',
      ),
    )
    .optional(),
  metrics: z
    .array(
      z.object({
        type: z.enum(['gauge', 'counter', 'histogram']),
        name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'expected a Prometheus metric name'),
        help: z.string().min(1),
        create: z.custom<MetricDefinition['create']>((v) => typeof v === 'function'),
      }),
    )
    .optional(),
  stages: z.array(
    z.custom<StageClass>(
      (v) => typeof v === 'function' && stageOptionsOf(v) !== undefined,
      'expected a class decorated with @Stage',
    ),
  ),
});
