/**
 * A real `StageContext` for testing one stage against a test database without the runner:
 * the same transaction code the runner uses, with a fence that always passes.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZodType } from 'zod';
import { buildConfig, parseSection, type AppConfig } from '../../libs/config/index.js';
import type { Database } from '../../libs/database/index.js';
import {
  createStageDatabase,
  loadPlugins,
  outputOf,
  stageOptionsOf,
  stagePaths,
  RUN_REPORT_FOLDER,
  type DataPaths,
  type PluginManifest,
  type StageContext,
  type StageOptions,
  type StageOutcome,
} from '../../libs/kernel/index.js';
import { silentLogger } from '../../libs/logging/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';
import { randomUUID } from 'node:crypto';
import { defaultPlugins } from '../../apps/daemon/src/plugins.js';

/** The built-in plugins' manifests, loaded as the daemon loads them. */
const builtIns: readonly PluginManifest[] = (await loadPlugins(defaultPlugins)).map((p) => p.manifest);

/** The manifest of the built-in plugin that brings stage `name`, if any. */
export function builtInPluginOf(name: string | undefined): PluginManifest | undefined {
  return builtIns.find((m) => m.stages.some((s) => stageOptionsOf(s)?.name === name));
}

/**
 * The folders a stage of `plugin` sees under `root`, created as the runner creates them; the
 * other built-in plugins' folders too, since a test may hand one stage's files to the next.
 */
export function dataPathsUnder(
  root: string,
  plugin?: PluginManifest,
  writtenFiles = '.pipeline/written-files.jsonl',
): DataPaths {
  for (const folder of [RUN_REPORT_FOLDER, ...builtIns.flatMap((m) => (m.dataFolder ? [m.dataFolder] : []))])
    mkdirSync(join(root, folder), { recursive: true });
  return stagePaths(root, plugin?.dataFolder ?? null, writtenFiles);
}

export interface TestContextOptions {
  /** The raw configuration (YAML shape) for this test; plugin sections included. */
  config?: Record<string, unknown>;
  /** The stage's options (from its decorator) so its config section is validated as at start-up. */
  stage?: StageOptions<ZodType>;
  runDate?: string;
  dataDir?: string;
  earlierStages?: StageOutcome[];
  metrics?: PipelineMetrics;
  signal?: AbortSignal;
}

/** A stage context, with the whole configuration and the metrics behind `ctx.metrics` for assertions. */
export type TestStageContext<S> = StageContext<S> & { config: AppConfig; pipelineMetrics: PipelineMetrics };

export function testContext<S = unknown>(
  db: Database,
  options: TestContextOptions = {},
): TestStageContext<S> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pipeline-data-'));
  const config = buildConfig({
    ...(options.config ?? {}),
    pipeline: { ...((options.config?.pipeline as object) ?? {}), data_dir: dataDir },
  });
  const settings = options.stage?.config
    ? parseSection(config, options.stage.config.key, options.stage.config.schema)
    : undefined;
  const signal = options.signal ?? new AbortController().signal;
  const plugin = builtInPluginOf(options.stage?.name);
  const pluginName = plugin?.name ?? 'test-plugin';
  const pipelineMetrics = options.metrics ?? new PipelineMetrics({ defaultMetrics: false });
  pipelineMetrics.declarePluginMetrics(pluginName, plugin?.metrics ?? []);
  const earlierStages = options.earlierStages ?? [];
  return {
    runId: randomUUID(),
    runDate: options.runDate ?? '2025-01-01',
    trigger: 'cli',
    attempt: 1,
    config,
    settings: settings as S,
    paths: dataPathsUnder(config.dataDir, plugin, config.pipeline.written_files),
    logger: silentLogger,
    db: createStageDatabase(db, {
      statementTimeoutMs: 60_000,
      connections: config.database.pool_size,
      signal,
      fence: async () => undefined,
    }),
    metrics: pipelineMetrics.forPlugin(pluginName),
    pipelineMetrics,
    signal,
    earlierStages,
    outputOf: (stage, output) => outputOf(earlierStages, stage, output, options.stage?.name ?? 'test-stage'),
    checkpoint: async () => undefined,
  };
}
