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
  type DataPaths,
  type StageContext,
  type StageOptions,
  type StageOutcome,
} from '../../libs/kernel/index.js';
import { silentLogger } from '../../libs/logging/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';
import { randomUUID } from 'node:crypto';

export function dataPathsUnder(root: string): DataPaths {
  const paths: DataPaths = {
    root,
    raw: join(root, 'raw'),
    quality: join(root, 'quality'),
    production: join(root, 'production'),
    processed: join(root, 'processed'),
    analytics: join(root, 'processed', 'analytics'),
    logs: join(root, 'logs'),
  };
  for (const dir of Object.values(paths)) mkdirSync(dir, { recursive: true });
  return paths;
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

export function testContext<S = unknown>(
  db: Database,
  options: TestContextOptions = {},
): StageContext<S> & { config: AppConfig } {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pipeline-data-'));
  const config = buildConfig({
    ...(options.config ?? {}),
    pipeline: { ...((options.config?.pipeline as object) ?? {}), data_dir: dataDir },
  });
  const settings = options.stage?.config
    ? parseSection(config, options.stage.config.key, options.stage.config.schema)
    : undefined;
  const signal = options.signal ?? new AbortController().signal;
  return {
    runId: randomUUID(),
    runDate: options.runDate ?? '2025-01-01',
    trigger: 'cli',
    attempt: 1,
    config,
    settings: settings as S,
    paths: dataPathsUnder(config.dataDir),
    logger: silentLogger,
    db: createStageDatabase(db, { statementTimeoutMs: 60_000, signal, fence: async () => undefined }),
    metrics: options.metrics ?? new PipelineMetrics({ defaultMetrics: false }),
    signal,
    earlierStages: options.earlierStages ?? [],
    checkpoint: async () => undefined,
  };
}
