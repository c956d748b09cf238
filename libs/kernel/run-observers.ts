import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logging/index.js';
import type { PipelineMetrics } from '../metrics/index.js';
import type { RunRepository } from './run.repository.js';
import type { ExecutionObserver } from './stage-executor.js';
import { withEveryString } from './run-report.js';
import { pipelineHealthOutput } from './stage-output.js';

/** What the observers of one run write to, besides the store, the metrics and the logs. */
export interface RunObserverContext {
  readonly runId: string;
  readonly store: RunRepository;
  readonly metrics: PipelineMetrics;
  /** The run's logger (lines carry its id). */
  readonly logger: Logger;
  /** Removes secrets from an error message before it is shown or stored. */
  readonly scrub: (text: string) => string;
  /** The run service's events (`stage`, `attempt`), which drive the CLI's progress display. */
  readonly emit: (event: 'stage' | 'attempt', payload: object) => void;
  /** The stages running now (`a, b` while a gate and the stage it gates run side by side). */
  readonly setActiveStage: (stages: string | null) => void;
  /** A stage's health verdict (`pipelineHealthOutput`), which readiness shows. */
  readonly onHealth: (verdict: Readonly<Record<string, unknown>>) => void;
  /** Files a succeeded stage wrote, for the manifest cleanup reads. */
  readonly recordWritten: (files: readonly string[]) => void;
}

/** Waits before the second and third try of a run-store record. */
export const STORE_RETRY_DELAYS_MS = [200, 1_000] as const;

/**
 * Runs `write` (a run-store record the run's history depends on: a stage's end, the run's end),
 * trying again after a failure that may pass (a dropped connection, a cancelled statement, a
 * failover) instead of leaving the run `running` until another process marks it abandoned.
 * Rethrows the last error.
 */
export async function recordWithRetries<T>(
  write: () => Promise<T>,
  what: string,
  logger: Logger,
  delaysMs: readonly number[] = STORE_RETRY_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined) throw error;
      logger.warn(`could not record ${what}; trying again`, { attempt: attempt + 1, error: error as Error });
      await sleep(delay);
    }
  }
}

/** The contract metrics of stages: attempts, durations, rows. */
function metricsObserver({ metrics }: RunObserverContext): Partial<ExecutionObserver> {
  return {
    attemptFinished: async (stage, _attempt, outcome, _error, delay) => {
      const label = outcome === 'succeeded' ? 'succeeded' : delay !== null ? 'retried' : outcome;
      metrics.stageAttempts.inc({ stage: stage.name, outcome: label });
    },
    stageFinished: async (stage, outcome) => {
      if (outcome.durationMs !== null)
        metrics.stageDuration.observe({ stage: stage.name }, outcome.durationMs / 1000);
      for (const row of outcome.result?.rows ?? []) {
        metrics.recordRows(stage.name, row.table, 'read', row.read ?? 0);
        metrics.recordRows(stage.name, row.table, 'written', row.written ?? 0);
        metrics.recordRows(stage.name, row.table, 'rejected', row.rejected ?? 0);
      }
    },
  };
}

/** The logs and events of a run, the stage it is at, its health verdict and written files. */
function progressObserver(context: RunObserverContext): Partial<ExecutionObserver> {
  const { logger, scrub, emit, setActiveStage } = context;
  const running: string[] = [];
  return {
    stageStarted: async (stage) => {
      running.push(stage.name);
      setActiveStage(running.join(', '));
      emit('stage', { stage: stage.name, status: 'running' });
      logger.info('stage started', { stage: stage.name });
    },
    attemptFinished: async (stage, attempt, outcome, error, delay) => {
      const message = error ? scrub(error.message) : null;
      // An operator's cancel is no fault of the stage's.
      if (outcome === 'cancelled')
        logger.info('stage attempt cancelled', { stage: stage.name, attempt, error: message });
      else if (error)
        logger.warn(delay !== null ? 'stage attempt failed; retrying' : 'stage attempt failed', {
          stage: stage.name,
          attempt,
          outcome,
          error: message,
          retryInMs: delay,
        });
      emit('attempt', { stage: stage.name, attempt, outcome, error: message, retryInMs: delay });
    },
    stageFinished: async (stage, outcome) => {
      const at = running.indexOf(stage.name);
      if (at >= 0) running.splice(at, 1);
      if (running.length > 0) setActiveStage(running.join(', '));
      const error = outcome.error ? scrub(outcome.error) : null;
      const health = outcome.result?.outputs?.[pipelineHealthOutput.name];
      if (health !== undefined) {
        const verdict = pipelineHealthOutput.schema.safeParse(health);
        if (verdict.success) context.onHealth(verdict.data);
        else logger.warn('stage handed on a health verdict that is not a mapping', { stage: stage.name });
      }
      if (outcome.status === 'succeeded') context.recordWritten(outcome.result?.files ?? []);
      const level = outcome.status === 'failed' ? 'error' : outcome.status === 'cancelled' ? 'warn' : 'info';
      logger[level](`stage ${outcome.status}`, {
        stage: stage.name,
        attempts: outcome.attempts,
        durationMs: outcome.durationMs,
        error,
      });
      emit('stage', {
        stage: stage.name,
        status: outcome.status,
        durationMs: outcome.durationMs,
        rows: outcome.result?.rows ?? [],
        error,
      });
    },
  };
}

/** The run store: stage and attempt rows. A write that fails is logged; the run goes on. */
function storeObserver({ runId, store, logger, scrub }: RunObserverContext): Partial<ExecutionObserver> {
  return {
    stageStarted: async (stage) => {
      await store
        .stageStarted(runId, stage.name)
        .catch((e: unknown) =>
          logger.warn('could not record stage start', { stage: stage.name, error: e as Error }),
        );
    },
    attemptStarted: async (stage, attempt) => {
      await store.attemptStarted(runId, stage.name, attempt).catch(() => undefined);
    },
    attemptFinished: async (stage, attempt, outcome, error, delay) => {
      const message = error ? scrub(error.message) : null;
      await store.attemptFinished(runId, stage.name, attempt, outcome, message, delay).catch(() => undefined);
    },
    stageFinished: async (stage, outcome, kind) => {
      // Resume starts at the first stage not recorded as succeeded, and later runs compare the
      // input fingerprint kept here: worth a second try.
      const record = () =>
        store.stageFinished(runId, {
          stage: stage.name,
          status: outcome.status,
          attempts: outcome.attempts,
          durationMs: outcome.durationMs,
          rows: outcome.result?.rows ?? [],
          details: outcome.result?.details ? withEveryString(scrub, outcome.result.details) : null,
          error: outcome.error ? scrub(outcome.error) : null,
          errorKind: kind,
          inputFingerprint: outcome.result?.inputFingerprint ?? null,
        });
      await recordWithRetries(record, `the end of stage ${stage.name}`, logger).catch((e: unknown) =>
        logger.warn('could not record stage end', { stage: stage.name, error: e as Error }),
      );
    },
  };
}

/** The observers of one run, called in order: metrics, then logs and events, then the store. */
export function runObservers(context: RunObserverContext): ExecutionObserver {
  const observers = [metricsObserver(context), progressObserver(context), storeObserver(context)];
  return {
    stageStarted: async (...args) => {
      for (const o of observers) await o.stageStarted?.(...args);
    },
    attemptStarted: async (...args) => {
      for (const o of observers) await o.attemptStarted?.(...args);
    },
    attemptFinished: async (...args) => {
      for (const o of observers) await o.attemptFinished?.(...args);
    },
    stageFinished: async (...args) => {
      for (const o of observers) await o.stageFinished?.(...args);
    },
  };
}
