import { errorKind, FencedError, GateClosedError, StageTimeoutError, type ErrorKind } from './errors.js';
import { retryDelayMs } from './retry-policy.js';
import { RunCancelledError } from './run-cancellation.js';
import type { RegisteredStage } from './stage-registry.js';
import type { StageContext, StageOutcome, StageResult } from './stage.js';

/** Time, injectable so that backoff can be tested without waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};

/** `cancelled`: stopped by an operator's cancel of the run; `aborted`: by shutdown or a lost lock. */
export type AttemptOutcomeKind = 'succeeded' | 'failed' | 'timeout' | 'aborted' | 'cancelled';

/** Told about every step, in order; the run store and the metrics listen here. */
export interface ExecutionObserver {
  stageStarted(stage: RegisteredStage): Promise<void>;
  attemptStarted(stage: RegisteredStage, attempt: number): Promise<void>;
  attemptFinished(
    stage: RegisteredStage,
    attempt: number,
    outcome: AttemptOutcomeKind,
    error: Error | null,
    retryDelayMs: number | null,
  ): Promise<void>;
  stageFinished(stage: RegisteredStage, outcome: StageOutcome, errorKind: ErrorKind | null): Promise<void>;
}

export interface ExecutionPlan {
  /** In run order: main stages (topological), then `finally` stages, then maintenance. */
  readonly stages: readonly RegisteredStage[];
  /** `gate`: settles when the gate of a stage started alongside it has decided; null otherwise. */
  readonly contextFor: (
    stage: RegisteredStage,
    attempt: number,
    signal: AbortSignal,
    earlier: readonly StageOutcome[],
    gate: Promise<void> | null,
  ) => StageContext;
  /**
   * Whether a stage starts alongside its gate (`RegisteredStage.gatedBy`) when the gate comes right
   * before it and it waits on nothing else. Off (the default): each stage waits for the one before.
   */
  readonly gatesSideBySide?: boolean;
  /** Aborted on shutdown or lost lock: no further stage starts, the running one is told to stop. */
  readonly signal: AbortSignal;
  /**
   * Aborted when an operator cancels the run: the running stage is told to stop (its transaction
   * rolls back), no further stage starts but the `finally` ones, which still report on the run.
   */
  readonly cancel?: AbortSignal;
  readonly observer: ExecutionObserver;
  readonly clock?: Clock;
  readonly random?: () => number;
  /**
   * How long a timed-out or aborted stage may take to wind down before the run moves on (its
   * statements were cancelled when it was told to stop; see `StageDatabaseOptions`).
   */
  readonly settleGraceMs?: number;
}

/**
 * Runs the planned stages in order, one at a time, except that a gated stage may run alongside
 * its gate (see `ExecutionPlan.gatesSideBySide`). A stage whose dependency (within this plan) did
 * not succeed is skipped; a failed attempt is retried with backoff unless its error is permanent;
 * `finally` stages run whatever happened before them, unless the run itself was aborted.
 */
export async function executeStages(plan: ExecutionPlan): Promise<StageOutcome[]> {
  const clock = plan.clock ?? systemClock;
  const random = plan.random ?? Math.random;
  const inPlan = new Set(plan.stages.map((s) => s.name));
  const outcomes: StageOutcome[] = [];
  const statusOf = new Map<string, StageOutcome['status']>();
  const blocking = (stage: RegisteredStage, except?: string): string[] =>
    stage.dependsOn.filter((dep) => dep !== except && inPlan.has(dep) && statusOf.get(dep) !== 'succeeded');
  const record = async (stage: RegisteredStage, outcome: StageOutcome, kind: ErrorKind | null) => {
    outcomes.push(outcome);
    statusOf.set(stage.name, outcome.status);
    await plan.observer.stageFinished(stage, outcome, kind);
  };

  for (let i = 0; i < plan.stages.length; i++) {
    const stage = plan.stages[i]!;
    const blockers = blocking(stage);
    if (plan.signal.aborted) {
      await record(stage, skipped(stage, `run aborted: ${reasonText(plan.signal.reason)}`), null);
      continue;
    }
    if (plan.cancel?.aborted && stage.phase !== 'finally') {
      await record(stage, skipped(stage, `skipped: ${reasonText(plan.cancel.reason)}`), null);
      continue;
    }
    if (blockers.length > 0) {
      await record(
        stage,
        skipped(stage, `skipped: ${blockers.map((d) => `${d} ${statusOf.get(d)}`).join(', ')}`),
        null,
      );
      continue;
    }
    const next = plan.stages[i + 1];
    if (
      plan.gatesSideBySide &&
      next?.gatedBy.includes(stage.name) &&
      blocking(next, stage.name).length === 0
    ) {
      await runBesideGate(stage, next, plan, outcomes, record, clock, random);
      i++;
      continue;
    }
    await plan.observer.stageStarted(stage);
    const { outcome, kind } = await runWithRetries(stage, plan, outcomes, clock, random, null);
    await record(stage, outcome, kind);
  }
  return outcomes;
}

/** What a stage running alongside its gate is given: the decision, and a signal when it is no. */
interface GateWatch {
  readonly decided: Promise<void>;
  readonly closed: AbortSignal;
}

/**
 * Runs `gate` and `gated` side by side. The gated stage's transactions wait at COMMIT for the
 * gate's outcome; a gate that does not succeed stops the gated stage and rolls its work back, and
 * the gated stage is recorded as skipped, as it would have been had it waited. The gate's outcome
 * is recorded first, so the outcomes keep the plan's order.
 */
async function runBesideGate(
  gate: RegisteredStage,
  gated: RegisteredStage,
  plan: ExecutionPlan,
  outcomes: StageOutcome[],
  record: (stage: RegisteredStage, outcome: StageOutcome, kind: ErrorKind | null) => Promise<void>,
  clock: Clock,
  random: () => number,
): Promise<void> {
  let open!: () => void;
  let close!: (error: GateClosedError) => void;
  const decided = new Promise<void>((resolve, reject) => {
    open = resolve;
    close = reject;
  });
  // Awaited only by the gated stage's transactions; one that never commits must not leave an
  // unhandled rejection behind.
  decided.catch(() => undefined);
  const closing = new AbortController();
  const earlier = [...outcomes];

  await plan.observer.stageStarted(gate);
  await plan.observer.stageStarted(gated);
  const gateRunning = runWithRetries(gate, plan, outcomes, clock, random, null);
  const gatedRun = runWithRetries(gated, plan, earlier, clock, random, {
    decided,
    closed: closing.signal,
  });
  const gateRun = await gateRunning;
  let closedBy: GateClosedError | null = null;
  if (gateRun.outcome.status === 'succeeded') open();
  else {
    closedBy = new GateClosedError(gate.name, gateRun.outcome.status);
    close(closedBy);
    closing.abort(closedBy);
  }
  await record(gate, gateRun.outcome, gateRun.kind);

  const gatedResult = await gatedRun;
  if (closedBy && gatedResult.outcome.status === 'cancelled' && !plan.signal.aborted) {
    // The operator's cancel stopped both: the gated stage was cancelled, not skipped by a verdict.
    await record(gated, { ...gatedResult.outcome, result: null }, null);
  } else if (closedBy) {
    // The run's abort closes the gate too; then that is the reason, as for any stage it stops.
    const why = plan.signal.aborted ? `run aborted: ${reasonText(plan.signal.reason)}` : closedBy.message;
    await record(gated, { ...gatedResult.outcome, status: 'skipped', error: why, result: null }, null);
  } else {
    await record(gated, gatedResult.outcome, gatedResult.kind);
  }
}

function skipped(stage: RegisteredStage, why: string): StageOutcome {
  return { stage: stage.name, status: 'skipped', attempts: 0, durationMs: null, error: why, result: null };
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? 'stopped');
}

async function runWithRetries(
  stage: RegisteredStage,
  plan: ExecutionPlan,
  earlier: readonly StageOutcome[],
  clock: Clock,
  random: () => number,
  gate: GateWatch | null,
): Promise<{ outcome: StageOutcome; kind: ErrorKind | null }> {
  const stops = [
    ...(gate ? [gate.closed] : []),
    ...(plan.cancel && stage.phase !== 'finally' ? [plan.cancel] : []),
  ];
  // Composed only when something else can stop the stage; otherwise the run's signal as it was.
  const stopped = stops.length ? AbortSignal.any([plan.signal, ...stops]) : plan.signal;
  const started = clock.now();
  let lastError: Error | null = null;
  let kind: ErrorKind | null = null;
  let cancelled: RunCancelledError | null = null;
  let attempt = 0;
  while (attempt < stage.retry.attempts) {
    attempt++;
    await plan.observer.attemptStarted(stage, attempt);
    const { result, error, outcome } = await runAttempt(stage, attempt, plan, earlier, stopped, gate);
    if (!error) {
      await plan.observer.attemptFinished(stage, attempt, 'succeeded', null, null);
      return {
        outcome: {
          stage: stage.name,
          status: 'succeeded',
          attempts: attempt,
          durationMs: clock.now() - started,
          error: null,
          result,
        },
        kind: null,
      };
    }
    lastError = error;
    kind = errorKind(error);
    if (outcome === 'cancelled') cancelled = error as RunCancelledError;
    const retrying = kind === 'retryable' && attempt < stage.retry.attempts && !stopped.aborted;
    const delay = retrying ? retryDelayMs(stage.retry, attempt, random) : null;
    await plan.observer.attemptFinished(stage, attempt, outcome, error, delay);
    if (delay === null) break;
    try {
      await clock.sleep(delay, stopped);
    } catch {
      if (stopped.reason instanceof RunCancelledError) cancelled = stopped.reason;
      break;
    }
  }
  if (cancelled) {
    // Not a failure: the operator stopped it. Cancelled while waiting to try again, it keeps
    // the error of the attempt before.
    const before =
      lastError && lastError !== cancelled ? `; the attempt before failed: ${lastError.message}` : '';
    return {
      outcome: {
        stage: stage.name,
        status: 'cancelled',
        attempts: attempt,
        durationMs: clock.now() - started,
        error: `${cancelled.message}${before}`,
        result: null,
      },
      kind: null,
    };
  }
  return {
    outcome: {
      stage: stage.name,
      status: 'failed',
      attempts: attempt,
      durationMs: clock.now() - started,
      error: lastError?.message ?? 'failed',
      result: null,
    },
    kind,
  };
}

async function runAttempt(
  stage: RegisteredStage,
  attempt: number,
  plan: ExecutionPlan,
  earlier: readonly StageOutcome[],
  stopped: AbortSignal,
  gate: GateWatch | null,
): Promise<{ result: StageResult | null; error: Error | null; outcome: AttemptOutcomeKind }> {
  const controller = new AbortController();
  // The run's abort, or the closing of the gate this stage runs alongside.
  const onStop = (): void => controller.abort(stopped.reason);
  if (stopped.aborted) onStop();
  stopped.addEventListener('abort', onStop, { once: true });
  const timer = setTimeout(
    () => controller.abort(new StageTimeoutError(stage.name, stage.timeoutMs)),
    stage.timeoutMs,
  );
  const running = (async () =>
    stage.instance.run(
      plan.contextFor(stage, attempt, controller.signal, [...earlier], gate?.decided ?? null),
    ))();
  const aborted = new Promise<never>((_, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason as Error);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
      once: true,
    });
  });
  try {
    const result = await Promise.race([running, aborted]);
    return { result, error: null, outcome: 'succeeded' };
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    if (controller.signal.aborted) {
      // The stage was told to stop; let it wind down (its transaction cannot commit) before going on.
      await settle(running, plan.settleGraceMs ?? 30_000);
      const reason = controller.signal.reason;
      if (reason instanceof StageTimeoutError) return { result: null, error: reason, outcome: 'timeout' };
      if (reason instanceof RunCancelledError) return { result: null, error: reason, outcome: 'cancelled' };
      return {
        result: null,
        error: reason instanceof Error ? reason : new FencedError(reasonText(reason)),
        outcome: 'aborted',
      };
    }
    // The fence found the cancel at COMMIT before the stage's signal said so.
    if (err instanceof RunCancelledError) return { result: null, error: err, outcome: 'cancelled' };
    return { result: null, error: err, outcome: 'failed' };
  } finally {
    clearTimeout(timer);
    stopped.removeEventListener('abort', onStop);
  }
}

async function settle(promise: Promise<unknown>, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    }),
  ]);
  clearTimeout(timer);
}
