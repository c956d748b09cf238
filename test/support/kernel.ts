/**
 * Builds the kernel through its one factory (`createKernel`, as `PipelineKernel` does), from
 * stage instances defined in a test file, so run-store and lock tests need no Nest application.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, type AppConfig } from '../../libs/config/index.js';
import type { Database } from '../../libs/database/index.js';
import {
  createKernel,
  RunRepository,
  RunService,
  StageRegistry,
  stageOptionsOf,
  type Clock,
  type PipelineStage,
  type RunLock,
  type StageDeclaration,
} from '../../libs/kernel/index.js';
import { silentLogger } from '../../libs/logging/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';

/** A declaration as Nest discovery would produce it from a `@Stage` class instance. */
export function declare(instance: PipelineStage<unknown>): StageDeclaration {
  const options = stageOptionsOf(instance.constructor);
  if (!options) throw new Error(`${instance.constructor.name} has no @Stage decorator`);
  return { options, instance, source: instance.constructor.name };
}

/** A resolvable promise: a test stage waits on it, the test decides when it goes on. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export interface TestRunServiceOptions {
  /** Raw configuration (YAML shape); `pipeline.data_dir` is set to a fresh folder unless given. */
  readonly config?: Record<string, unknown>;
  readonly lock?: RunLock;
  readonly metrics?: PipelineMetrics;
  readonly clock?: Clock;
}

export interface TestRunService {
  readonly service: RunService;
  readonly store: RunRepository;
  readonly registry: StageRegistry;
  readonly config: AppConfig;
  readonly metrics: PipelineMetrics;
}

export function testRunService(
  db: Database,
  stages: readonly PipelineStage<unknown>[],
  options: TestRunServiceOptions = {},
): TestRunService {
  const raw = options.config ?? {};
  const pipeline = (raw.pipeline as Record<string, unknown> | undefined) ?? {};
  const config = buildConfig({
    ...raw,
    pipeline: {
      data_dir: mkdtempSync(join(tmpdir(), 'kernel-data-')),
      heartbeat_interval_ms: 60_000,
      ...pipeline,
    },
  });
  const metrics = options.metrics ?? new PipelineMetrics({ defaultMetrics: false });
  const { registry, runs, store } = createKernel({
    config,
    db,
    logger: silentLogger,
    metrics,
    codeVersion: 'test',
    plugins: [],
    extraStages: stages.map(declare),
    ...(options.lock ? { lock: options.lock } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { service: runs, store, registry, config, metrics };
}

/** The current value of an unlabelled counter or gauge, or of one label set. */
export async function metricValue(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  const match = values.find(
    (v) =>
      Object.entries(labels).every(([k, l]) => v.labels[k] === l) &&
      Object.keys(v.labels).length === Object.keys(labels).length,
  );
  return match?.value ?? 0;
}
