import type { AppConfig } from '../config/index.js';
import type { Database } from '../database/index.js';
import type { Logger } from '../logging/index.js';
import type { PipelineMetrics } from '../metrics/index.js';
import type { FaultPoints } from './fault-points.js';
import { stageDeclarations, type LoadedPlugin } from './plugin-loader.js';
import { runLockFor, type RunLock } from './run-lock.js';
import { RunRepository } from './run.repository.js';
import { RunService } from './run.service.js';
import type { Clock } from './stage-executor.js';
import { StageRegistry, type StageDeclaration } from './stage-registry.js';

export interface KernelOptions {
  readonly config: AppConfig;
  readonly db: Database;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly codeVersion: string;
  /** The loaded plugins: their stages, metrics and versions. */
  readonly plugins: readonly LoadedPlugin[];
  /** Stages built elsewhere (tests' stage instances), beside the plugins' own. */
  readonly extraStages?: readonly StageDeclaration[];
  readonly lock?: RunLock;
  readonly clock?: Clock;
  readonly faults?: FaultPoints;
}

export interface Kernel {
  readonly registry: StageRegistry;
  readonly runs: RunService;
  readonly store: RunRepository;
}

/**
 * The one composition root of the kernel: the Nest daemon and the CLI (through `PipelineKernel`)
 * and the tests build it here. Creates the plugins' metrics, validates the stages, and wires the
 * run service to the store and the run lock.
 */
export function createKernel(options: KernelOptions): Kernel {
  const { config, db, logger, metrics, plugins } = options;
  for (const { manifest } of plugins) {
    metrics.declarePluginMetrics(manifest.name, manifest.metrics ?? []);
    metrics.pluginInfo.set({ plugin: manifest.name, version: manifest.version }, 1);
  }
  const registry = new StageRegistry([...stageDeclarations(plugins), ...(options.extraStages ?? [])], config);
  const store = new RunRepository(db.pool);
  const runs = new RunService({
    db,
    registry,
    config,
    logger,
    metrics,
    lock: options.lock ?? runLockFor(db),
    store,
    codeVersion: options.codeVersion,
    pluginVersions: Object.fromEntries(plugins.map(({ manifest }) => [manifest.name, manifest.version])),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  return { registry, runs, store };
}
