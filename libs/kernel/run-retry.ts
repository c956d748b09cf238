/**
 * Retrying a run from its failed stage: a new run for the same business date that resumes the
 * given failed, abandoned, interrupted or cancelled run from its first unfinished main stage, as
 * `run --resume <id>` does. What it would run can be asked first (a dry run).
 */
import type { StageRegistry } from './stage-registry.js';
import type { RunRepository } from './run.repository.js';

/** Why a run cannot be retried; the API maps each reason to its status code. */
export class RetryRefusedError extends Error {
  override readonly name = 'RetryRefusedError';
  constructor(
    readonly reason: 'unknown' | 'running' | 'finished-well',
    message: string,
  ) {
    super(message);
  }
}

export interface RetryPlan {
  readonly runId: string;
  readonly runDate: string;
  /** The first main stage the earlier run did not finish: the retry starts there. */
  readonly from: string;
}

const RETRYABLE = new Set(['failed', 'abandoned', 'interrupted', 'cancelled']);

/** Where a retry of `runId` would start; throws `RetryRefusedError` when there is nothing to retry. */
export async function planRetry(
  store: RunRepository,
  registry: StageRegistry,
  runId: string,
): Promise<RetryPlan> {
  const run = await store.get(runId);
  if (!run) throw new RetryRefusedError('unknown', `no run ${runId}`);
  if (run.status === 'running')
    throw new RetryRefusedError('running', `run ${runId} is still running; cancel it first`);
  if (!RETRYABLE.has(run.status))
    throw new RetryRefusedError('finished-well', `run ${runId} ${run.status}: there is nothing to retry`);
  const unfinished = run.stages.find(
    (s) => s.status !== 'succeeded' && registry.get(s.stage)?.phase === 'main',
  );
  if (!unfinished)
    throw new RetryRefusedError('finished-well', `run ${runId} has no unfinished main stage to retry`);
  return { runId, runDate: run.run_date, from: unfinished.stage };
}
