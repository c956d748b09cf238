import type { Readable, Writable } from 'node:stream';
import type pg from 'pg';
import type { ZodType } from 'zod';
import type { RetryPolicyConfig } from '../config/index.js';
import type { CopyTarget } from '../database/index.js';
import type { Logger } from '../logging/index.js';
import type { StageMetrics } from '../metrics/index.js';
import type { StageOutput } from './stage-output.js';

/** What started a run. */
export type RunTrigger = 'schedule' | 'api' | 'cli' | 'backfill';

/**
 * When a stage runs:
 * - `main`: in dependency order; a failure skips its dependents;
 * - `finally`: after the main stages, also when one failed (monitoring);
 * - `maintenance`: only when asked for by name or after a scheduled run (cleanup).
 */
export type StagePhase = 'main' | 'finally' | 'maintenance';

/** What a stage declares about itself with `@Stage(...)`. */
export interface StageOptions<S extends ZodType = ZodType> {
  /** Unique, kebab-case: `data-generation`, `warehouse`. */
  readonly name: string;
  readonly description: string;
  /** Stages whose results this one reads. They run first; if one fails, this one is skipped. */
  readonly dependsOn?: readonly string[];
  /**
   * Of `dependsOn`, the gates: stages this one must see pass, but whose writes it does not read
   * (quality-checks for production-etl: both read staging; the gate only says yes or no). Where the
   * run allows it (`pipeline.gates_side_by_side`, on PostgreSQL with connections to spare), this
   * stage starts alongside its gate, and each of its transactions waits at COMMIT until the gate
   * has succeeded. If the gate fails, that work rolls back and the stage is skipped, as it would
   * have been had it waited. So a gated stage writes only through `ctx.db.transaction`.
   */
  readonly gatedBy?: readonly string[];
  readonly phase?: StagePhase;
  /** Overrides the default retry policy (config `pipeline.stages.<name>.retry` overrides both). */
  readonly retry?: Partial<RetryPolicy>;
  /** Overrides `pipeline.stage_timeout_ms`. */
  readonly timeoutMs?: number;
  /** Whether the stage runs when config does not say (`pipeline.stages.<name>.enabled`). */
  readonly enabledByDefault?: boolean;
  /** The stage's own config section, validated at start-up: a bad value names `key.path`. */
  readonly config?: { readonly key: string; readonly schema: S };
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** 0..1: each delay is spread by up to this share, so replicas do not retry in step. */
  readonly jitter: number;
}

export function retryPolicyFromConfig(config: RetryPolicyConfig): RetryPolicy {
  return {
    attempts: config.attempts,
    baseDelayMs: config.base_delay_ms,
    maxDelayMs: config.max_delay_ms,
    jitter: config.jitter,
  };
}

/** Where a stage keeps files: the data folder, and its plugin's own folder inside it. */
export interface DataPaths {
  /** The data folder (`pipeline.data_dir`); files a stage reports are relative to it. */
  readonly root: string;
  /**
   * The plugin's own folder, `<root>/<manifest dataFolder>`, created before its stages run (the
   * data folder itself for a plugin that declares none).
   */
  readonly own: string;
  /** The manifest of the files the pipeline wrote, relative to `root` (cleanup deletes nothing else). */
  readonly writtenFiles: string;
}

/** A database transaction opened for a stage; it commits only if the run still holds its lock. */
export interface StageTransaction {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Bulk-loads CSV records (no header row) through the database's bulk-load port. */
  copyCsv(target: CopyTarget, records: Readable): Promise<number>;
  /**
   * Streams a parameterless SELECT's rows as CSV with a header row, formatted by the server,
   * into `sink`; returns the rows. Only where the database can (PostgreSQL's COPY TO STDOUT).
   */
  readonly copyCsvOut?: (query: string, sink: Writable) => Promise<number>;
}

export interface StageDatabase {
  readonly kind: 'postgres' | 'embedded';
  /** The connections the pool behind it has (work side by side needs several). */
  readonly connections: number;
  /** A statement outside any transaction (reads, or writes that are idempotent on their own). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<pg.QueryResult<R>>;
  /**
   * Runs `work` in one transaction with the stage's statement timeout. Before COMMIT the kernel
   * checks, inside the same transaction, that this run still holds the run lock (fencing) and
   * has not been aborted; otherwise it rolls back and throws `FencedError`.
   */
  transaction<T>(work: (tx: StageTransaction) => Promise<T>): Promise<T>;
}

/** Rows a stage moved, per table; they feed the report and `pipeline_rows_total`. */
export interface RowCount {
  readonly table: string;
  readonly read?: number;
  readonly written?: number;
  readonly rejected?: number;
}

export interface StageResult {
  readonly rows?: readonly RowCount[];
  /** Files written, relative to the data folder. */
  readonly files?: readonly string[];
  /** Anything worth keeping in the run report (counts by reason, scores, timings). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly warnings?: readonly string[];
  /**
   * Values later stages may read, by output name (`StageOutput`): the consumer declares the
   * shape it expects and the kernel checks it, so nothing is guessed out of `details`.
   */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /**
   * A fingerprint of the input the stage read for the run's business date (ingestion: its files),
   * kept with the stage's run, so that a backfill notices a date whose input changed since it
   * succeeded (`PipelineStage.inputFingerprint`).
   */
  readonly inputFingerprint?: string;
}

/** `cancelled`: an operator's cancel of the run stopped the stage (neither a success nor a failure). */
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** How an earlier stage of this run ended (monitoring reports on them). */
export interface StageOutcome {
  readonly stage: string;
  readonly status: StageStatus;
  readonly attempts: number;
  readonly durationMs: number | null;
  readonly error: string | null;
  readonly result: StageResult | null;
}

export interface StageContext<Settings = unknown> {
  readonly runId: string;
  /** The business date (YYYY-MM-DD) the run is for; never "today" implicitly. */
  readonly runDate: string;
  readonly trigger: RunTrigger;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** This stage's validated config section (from `StageOptions.config`). */
  readonly settings: Settings;
  readonly paths: DataPaths;
  readonly logger: Logger;
  readonly db: StageDatabase;
  /** The kernel's row counter and the metrics the plugin's manifest declares. */
  readonly metrics: StageMetrics;
  /** Aborted on timeout, lost lock or shutdown: stop at the next safe point. */
  readonly signal: AbortSignal;
  /** Stages of this run that have finished so far, in order. */
  readonly earlierStages: readonly StageOutcome[];
  /**
   * The latest business date before this run's on which this stage succeeded (in any run), or
   * null when it never did: whether this is the first date the stage handles, whatever the order
   * the dates were run in.
   */
  readonly succeededBefore: string | null;
  /**
   * What stage `stage` of this run handed on as `output`, checked against the shape this stage
   * expects; undefined when that stage did not run or did not succeed. A value of another shape
   * throws a `PermanentError` naming both stages and the output.
   */
  outputOf<T>(stage: string, output: StageOutput<T>): T | undefined;
  /**
   * A named point inside the stage where fault-injection tests may pause or crash the process
   * (`PIPELINE_FAULT_POINTS`); without that variable it does nothing.
   */
  checkpoint(point: string): Promise<void>;
}

/** What a stage may read to bring its gauges up to date outside a run (read-only). */
export interface MetricsRefreshContext<Settings = unknown> {
  readonly settings: Settings;
  readonly paths: DataPaths;
  /** Today's business date in the scheduler's time zone. */
  readonly today: string;
  readonly db: Pick<StageDatabase, 'kind' | 'query'>;
  readonly metrics: StageMetrics;
  readonly logger: Logger;
}

/** What a stage may read to fingerprint a business date's input outside a run (read-only). */
export interface InputFingerprintContext<Settings = unknown> {
  readonly runDate: string;
  readonly settings: Settings;
  readonly paths: DataPaths;
}

/** A stage plugin's class: decorated with `@Stage(...)` and provided by the plugin's module. */
export interface PipelineStage<Settings = unknown> {
  run(context: StageContext<Settings>): Promise<StageResult>;
  /**
   * Optional: recompute this stage's gauges from the database and files. Every replica calls it
   * at start-up and periodically, so gauges are right after a restart and on idle replicas, not
   * only in the process that ran the pipeline.
   */
  refreshMetrics?(context: MetricsRefreshContext<Settings>): Promise<void>;
  /**
   * Optional: the fingerprint of the input this stage would read for a business date now, as it
   * reports in `StageResult.inputFingerprint`, or null when there is none to compare yet. A
   * backfill runs a date that already succeeded again when the two differ.
   */
  inputFingerprint?(context: InputFingerprintContext<Settings>): Promise<string | null>;
}
