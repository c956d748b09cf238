import type { AppConfig } from '../config/index.js';
import type { Database } from '../database/index.js';
import type { Logger } from '../logging/index.js';
import type { PipelineMetrics } from '../metrics/index.js';
import type { FaultPoints } from './fault-points.js';
import { join } from 'node:path';
import { createStageDatabase } from './stage-database.js';
import type { ExecutionPlan } from './stage-executor.js';
import { outputOf } from './stage-output.js';
import type { DataPaths, RunTrigger, StageTransaction } from './stage.js';

/** The kernel's own folder under the data folder: the run report is written there. */
export const RUN_REPORT_FOLDER = 'processed';

/** The folders a stage of a plugin with `dataFolder` sees under the data folder `root`. */
export function stagePaths(root: string, dataFolder: string | null, writtenFiles: string): DataPaths {
  return { root, own: dataFolder ? join(root, dataFolder) : root, writtenFiles };
}

export interface StageContextsOptions {
  readonly run: { readonly runId: string; readonly runDate: string; readonly trigger: RunTrigger };
  readonly config: AppConfig;
  readonly db: Database;
  readonly dataDir: string;
  /** The run's logger. */
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  /** Checked inside every stage transaction before COMMIT (the run lock, and the run still ours). */
  readonly fence: (tx: StageTransaction) => Promise<void>;
  readonly faults: FaultPoints;
  /** Per stage, the latest business date before the run's on which it succeeded. */
  readonly succeededBefore: ReadonlyMap<string, string>;
}

/**
 * Builds the context of each stage attempt of a run, scoped to the stage's plugin: its logger,
 * database handle, settings, data folder and metrics, and the outputs of the stages before it.
 */
export function stageContexts(options: StageContextsOptions): ExecutionPlan['contextFor'] {
  const { run, config, db, dataDir, logger, metrics, fence, faults, succeededBefore } = options;
  return (stage, attempt, signal, earlier, gate) => {
    const stageDb = createStageDatabase(db, {
      statementTimeoutMs: config.database.statement_timeout_ms,
      connections: config.database.pool_size,
      signal,
      fence,
      gate,
      abandonAfterMs: config.pipeline.stop_grace_ms,
      onInterruptFailed: (error) =>
        logger.warn('could not interrupt the sessions of a stage told to stop', {
          stage: stage.name,
          error,
        }),
    });
    return {
      runId: run.runId,
      runDate: run.runDate,
      trigger: run.trigger,
      attempt,
      settings: stage.settings,
      paths: stagePaths(dataDir, stage.dataFolder, config.pipeline.written_files),
      logger: logger.child({ plugin: stage.plugin, stage: stage.name, attempt }),
      db: stageDb,
      metrics: metrics.forPlugin(stage.plugin),
      signal,
      earlierStages: earlier,
      succeededBefore: succeededBefore.get(stage.name) ?? null,
      outputOf: (from, output) => outputOf(earlier, from, output, stage.name),
      checkpoint: (point) => faults.reach(point, signal, stageDb),
    };
  };
}
