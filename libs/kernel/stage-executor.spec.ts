import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FencedError, GateClosedError, PermanentError, RetryableError, StageTimeoutError } from './errors.js';
import { retryDelayMs } from './retry-policy.js';
import { RunCancelledError } from './run-cancellation.js';
import {
  executeStages,
  type AttemptOutcomeKind,
  type Clock,
  type ExecutionObserver,
  type ExecutionPlan,
} from './stage-executor.js';
import type { RegisteredStage } from './stage-registry.js';
import type { RetryPolicy, StageContext, StageResult } from './stage.js';

/** A clock that never waits: it records each backoff and moves time forward by it. */
class FakeClock implements Clock {
  time = 1_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason as Error;
    this.sleeps.push(ms);
    this.time += ms;
  }
}

interface AttemptRecord {
  stage: string;
  attempt: number;
  outcome: AttemptOutcomeKind;
  error: string | null;
  retryDelayMs: number | null;
}

class RecordingObserver implements ExecutionObserver {
  readonly attempts: AttemptRecord[] = [];
  readonly started: string[] = [];
  readonly finished: { stage: string; status: string; kind: string | null }[] = [];
  async stageStarted(stage: RegisteredStage): Promise<void> {
    this.started.push(stage.name);
  }
  async attemptStarted(): Promise<void> {}
  async attemptFinished(
    stage: RegisteredStage,
    attempt: number,
    outcome: AttemptOutcomeKind,
    error: Error | null,
    delay: number | null,
  ): Promise<void> {
    this.attempts.push({
      stage: stage.name,
      attempt,
      outcome,
      error: error?.message ?? null,
      retryDelayMs: delay,
    });
  }
  async stageFinished(
    stage: RegisteredStage,
    outcome: { status: string },
    kind: string | null,
  ): Promise<void> {
    this.finished.push({ stage: stage.name, status: outcome.status, kind });
  }
}

type Behaviour = (ctx: StageContext, attempt: number) => Promise<StageResult>;

function registered(
  name: string,
  behaviour: Behaviour,
  more: Partial<RegisteredStage> = {},
): RegisteredStage & { calls: number } {
  const stage = {
    name,
    description: name,
    dependsOn: [],
    gatedBy: [],
    phase: 'main' as const,
    plugin: 'test-stages',
    dataFolder: null,
    enabled: true,
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 0 },
    timeoutMs: 5_000,
    settings: undefined,
    calls: 0,
    instance: {
      run: async (ctx: StageContext) => {
        stage.calls++;
        return behaviour(ctx, ctx.attempt);
      },
    },
    ...more,
  };
  return stage;
}

function plan(
  stages: RegisteredStage[],
  more: Partial<ExecutionPlan> = {},
): ExecutionPlan & { observer: RecordingObserver; clock: FakeClock } {
  return {
    stages,
    signal: new AbortController().signal,
    observer: new RecordingObserver(),
    clock: new FakeClock(),
    random: () => 0.5,
    settleGraceMs: 50,
    contextFor: (stage, attempt, signal, earlier) =>
      ({
        runId: 'r',
        runDate: '2025-01-01',
        attempt,
        signal,
        earlierStages: earlier,
      }) as unknown as StageContext,
    ...more,
  } as ExecutionPlan & { observer: RecordingObserver; clock: FakeClock };
}

const failTimes =
  (n: number, make: (attempt: number) => Error = (a) => new RetryableError(`flaky ${a}`)): Behaviour =>
  async (_ctx, attempt) => {
    if (attempt <= n) throw make(attempt);
    return { details: { attempt } };
  };
const succeed: Behaviour = async () => ({});

describe('stage executor: retries', () => {
  it('retries a retryable failure with exponential backoff and exact delays when jitter is 0', async () => {
    const flaky = registered('flaky', failTimes(3), {
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 0 },
    });
    const p = plan([flaky]);
    const [outcome] = await executeStages(p);
    assert.equal(outcome!.status, 'succeeded');
    assert.equal(outcome!.attempts, 4);
    assert.equal(flaky.calls, 4);
    assert.deepEqual(p.clock.sleeps, [100, 200, 400]);
    assert.equal(outcome!.durationMs, 700);
    assert.deepEqual(
      p.observer.attempts.map((a) => [a.attempt, a.outcome, a.retryDelayMs]),
      [
        [1, 'failed', 100],
        [2, 'failed', 200],
        [3, 'failed', 400],
        [4, 'succeeded', null],
      ],
    );
  });

  it('spreads each delay by the jitter share with the given random source', async () => {
    const flaky = registered('flaky', failTimes(2), {
      retry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000, jitter: 0.5 },
    });
    // random 0.75 → spread = delay × 0.5 × (2 × 0.75 − 1) = +25 %
    const p = plan([flaky], { random: () => 0.75 });
    await executeStages(p);
    assert.deepEqual(p.clock.sleeps, [1_250, 2_500]);
  });

  it('gives up after the configured number of attempts and reports the last error', async () => {
    const broken = registered('broken', failTimes(99), {
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10_000, jitter: 0 },
    });
    const p = plan([broken]);
    const [outcome] = await executeStages(p);
    assert.equal(outcome!.status, 'failed');
    assert.equal(outcome!.attempts, 3);
    assert.equal(outcome!.error, 'flaky 3');
    assert.deepEqual(p.clock.sleeps, [10, 20]);
    assert.equal(p.observer.attempts.at(-1)!.retryDelayMs, null);
    assert.deepEqual(p.observer.finished, [{ stage: 'broken', status: 'failed', kind: 'retryable' }]);
  });

  it('does not retry a PermanentError', async () => {
    const bad = registered('bad-input', async () => {
      throw new PermanentError('customers.csv line 7 column email: not an email');
    });
    const p = plan([bad]);
    const [outcome] = await executeStages(p);
    assert.equal(bad.calls, 1);
    assert.equal(outcome!.attempts, 1);
    assert.equal(outcome!.error, 'customers.csv line 7 column email: not an email');
    assert.deepEqual(p.clock.sleeps, []);
    assert.deepEqual(p.observer.finished, [{ stage: 'bad-input', status: 'failed', kind: 'permanent' }]);
  });

  it('does not retry a database error whose SQLSTATE is a data error (23505 unique violation)', async () => {
    const dup = registered('dup', async () => {
      throw Object.assign(new Error('duplicate key value violates unique constraint "customers_pkey"'), {
        code: '23505',
      });
    });
    const p = plan([dup]);
    const [outcome] = await executeStages(p);
    assert.equal(dup.calls, 1);
    assert.equal(outcome!.status, 'failed');
    assert.equal(p.observer.finished[0]!.kind, 'permanent');
  });

  it('retries a database error whose SQLSTATE is transient (40001 serialization failure)', async () => {
    const serial = registered(
      'serial',
      failTimes(1, () => Object.assign(new Error('could not serialize access'), { code: '40001' })),
    );
    const [outcome] = await executeStages(plan([serial]));
    assert.equal(outcome!.status, 'succeeded');
    assert.equal(serial.calls, 2);
  });
});

describe('stage executor: timeouts', () => {
  it('times out a stage that ignores its signal, records the attempt as timeout and retries it', async () => {
    const slow = registered(
      'slow',
      async (_ctx, attempt) => {
        if (attempt === 1) await new Promise((resolve) => setTimeout(resolve, 300));
        return { details: { attempt } };
      },
      { timeoutMs: 40, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 5, jitter: 0 } },
    );
    const p = plan([slow]);
    const started = Date.now();
    const [outcome] = await executeStages(p);
    const elapsed = Date.now() - started;
    assert.equal(outcome!.status, 'succeeded');
    assert.equal(outcome!.attempts, 2);
    assert.deepEqual(outcome!.result, { details: { attempt: 2 } });
    assert.deepEqual(p.observer.attempts[0], {
      stage: 'slow',
      attempt: 1,
      outcome: 'timeout',
      error: 'stage slow did not finish within 40 ms',
      retryDelayMs: 5,
    });
    // The timed-out attempt gets the settle grace (50 ms), not its full 300 ms.
    assert.ok(elapsed < 250, `took ${elapsed} ms`);
  });

  it('aborts the signal of a timed-out stage with a StageTimeoutError', async () => {
    let reason: unknown = null;
    const watcher = registered(
      'watcher',
      (ctx) =>
        new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason as Error);
          });
        }),
      { timeoutMs: 20, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, jitter: 0 } },
    );
    const [outcome] = await executeStages(plan([watcher]));
    assert.ok(reason instanceof StageTimeoutError);
    assert.equal(outcome!.status, 'failed');
    assert.equal(outcome!.error, 'stage watcher did not finish within 20 ms');
  });
});

describe('stage executor: dependencies, finally stages and aborts', () => {
  it('skips the dependents of a failed stage, transitively, and runs independent stages', async () => {
    const extract = registered('extract', async () => {
      throw new PermanentError('raw folder is empty');
    });
    const load = registered('load', succeed, { dependsOn: ['extract'] });
    const report = registered('report', succeed, { dependsOn: ['load'] });
    const audit = registered('audit', succeed);
    const outcomes = await executeStages(plan([extract, load, report, audit]));
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status, o.attempts, o.error]),
      [
        ['extract', 'failed', 1, 'raw folder is empty'],
        ['load', 'skipped', 0, 'skipped: extract failed'],
        ['report', 'skipped', 0, 'skipped: load skipped'],
        ['audit', 'succeeded', 1, null],
      ],
    );
    assert.equal(load.calls + report.calls, 0);
  });

  it('ignores dependencies that are not part of the plan (a resumed or selected run)', async () => {
    const load = registered('load', succeed, { dependsOn: ['extract'] });
    const [outcome] = await executeStages(plan([load]));
    assert.equal(outcome!.status, 'succeeded');
  });

  it('runs a finally stage after a failure and shows it the earlier outcomes', async () => {
    let seen: string[] = [];
    const extract = registered('extract', async () => {
      throw new PermanentError('bad');
    });
    const monitor = registered(
      'monitoring',
      async (ctx) => {
        seen = ctx.earlierStages.map((o) => `${o.stage}:${o.status}`);
        return {};
      },
      { phase: 'finally' },
    );
    const outcomes = await executeStages(plan([extract, monitor]));
    assert.equal(outcomes[1]!.status, 'succeeded');
    assert.equal(monitor.calls, 1);
    assert.deepEqual(seen, ['extract:failed']);
  });

  it('starts nothing after the run signal aborts, and tells the running stage to stop', async () => {
    const run = new AbortController();
    let stageSignalAborted = false;
    const first = registered('first', (ctx) => {
      run.abort(new FencedError('lost the run lock'));
      stageSignalAborted = ctx.signal.aborted;
      return new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
      );
    });
    const second = registered('second', succeed);
    const monitor = registered('monitoring', succeed, { phase: 'finally' });
    const p = plan([first, second, monitor], { signal: run.signal });
    const outcomes = await executeStages(p);
    assert.equal(stageSignalAborted, true);
    assert.equal(second.calls + monitor.calls, 0);
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status, o.error]),
      [
        ['first', 'failed', 'lost the run lock'],
        ['second', 'skipped', 'run aborted: lost the run lock'],
        ['monitoring', 'skipped', 'run aborted: lost the run lock'],
      ],
    );
    assert.deepEqual(p.observer.attempts, [
      { stage: 'first', attempt: 1, outcome: 'aborted', error: 'lost the run lock', retryDelayMs: null },
    ]);
    assert.deepEqual(p.clock.sleeps, []);
  });

  it('does not retry once the run is aborted during a failing attempt', async () => {
    const run = new AbortController();
    const flaky = registered('flaky', async () => {
      run.abort(new FencedError('shutting down'));
      throw new RetryableError('connection reset');
    });
    const p = plan([flaky], { signal: run.signal });
    const [outcome] = await executeStages(p);
    assert.equal(flaky.calls, 1);
    assert.equal(outcome!.status, 'failed');
    assert.deepEqual(p.clock.sleeps, []);
  });

  it('stops waiting for a retry when the run is aborted during the backoff', async () => {
    const run = new AbortController();
    const clock = new FakeClock();
    clock.sleep = async (_ms, signal) => {
      run.abort(new FencedError('shutting down'));
      throw signal.reason as Error;
    };
    const flaky = registered('flaky', failTimes(1));
    const later = registered('later', succeed);
    const outcomes = await executeStages(plan([flaky, later], { signal: run.signal, clock }));
    assert.equal(flaky.calls, 1);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['failed', 'skipped'],
    );
  });
});

describe("stage executor: an operator's cancel", () => {
  const cancelled = (): RunCancelledError =>
    new RunCancelledError('test operator', new Date('2025-01-01T03:00:00.000Z'));
  const message = 'run cancelled by an operator (requested by test operator at 2025-01-01T03:00:00.000Z)';
  const waitForStop: Behaviour = (ctx) =>
    new Promise((_, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
    });

  it('records the stage it stops as cancelled, not failed, skips the rest and still runs the finally stages', async () => {
    const cancel = new AbortController();
    const load = registered('load', (ctx) => {
      cancel.abort(cancelled());
      return waitForStop(ctx, 1);
    });
    const publish = registered('publish', succeed);
    const monitor = registered('monitoring', succeed, { phase: 'finally' });
    const p = plan([load, publish, monitor], { cancel: cancel.signal });
    const outcomes = await executeStages(p);
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status, o.error]),
      [
        ['load', 'cancelled', message],
        ['publish', 'skipped', `skipped: ${message}`],
        ['monitoring', 'succeeded', null],
      ],
    );
    assert.deepEqual(p.observer.attempts[0], {
      stage: 'load',
      attempt: 1,
      outcome: 'cancelled',
      error: message,
      retryDelayMs: null,
    });
    assert.deepEqual(p.observer.finished[0], { stage: 'load', status: 'cancelled', kind: null });
  });

  it('records as cancelled a stage whose COMMIT the fence refused for the cancel', async () => {
    const cancel = new AbortController();
    // The fence aborts the run's cancel signal, then throws the same error out of the transaction.
    const load = registered('load', async () => {
      const error = cancelled();
      cancel.abort(error);
      throw error;
    });
    const outcomes = await executeStages(plan([load], { cancel: cancel.signal }));
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status, o.attempts]),
      [['load', 'cancelled', 1]],
    );
  });

  it('records as cancelled a stage cancelled while it waited to try again, keeping the failure before', async () => {
    const cancel = new AbortController();
    const clock = new FakeClock();
    clock.sleep = async (_ms, signal) => {
      cancel.abort(cancelled());
      throw signal.reason as Error;
    };
    const flaky = registered('flaky', failTimes(1));
    const [outcome] = await executeStages(plan([flaky], { cancel: cancel.signal, clock }));
    assert.equal(flaky.calls, 1);
    assert.equal(outcome!.status, 'cancelled');
    assert.equal(outcome!.error, `${message}; the attempt before failed: flaky 1`);
  });

  it('records as cancelled, not skipped, a stage stopped together with the gate it ran beside', async () => {
    const cancel = new AbortController();
    const check = registered('check', (ctx) => {
      setTimeout(() => cancel.abort(cancelled()), 5);
      return waitForStop(ctx, 1);
    });
    const load = registered('load', waitForStop, { dependsOn: ['check'], gatedBy: ['check'] });
    const outcomes = await executeStages(
      plan([check, load], { cancel: cancel.signal, gatesSideBySide: true }),
    );
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status, o.error]),
      [
        ['check', 'cancelled', message],
        ['load', 'cancelled', message],
      ],
    );
  });

  it('records a stage stopped by shutdown as failed: only a cancel makes it cancelled', async () => {
    const run = new AbortController();
    const load = registered('load', (ctx) => {
      run.abort(new FencedError('the daemon is shutting down'));
      return waitForStop(ctx, 1);
    });
    const [outcome] = await executeStages(
      plan([load], { signal: run.signal, cancel: new AbortController().signal }),
    );
    assert.equal(outcome!.status, 'failed');
  });
});

describe('stage executor: a gated stage beside its gate', () => {
  /** A plan whose contexts carry the gate decision, as the kernel's transactions see it. */
  const gatedPlan = (stages: RegisteredStage[], sideBySide = true) =>
    plan(stages, {
      gatesSideBySide: sideBySide,
      contextFor: (stage, attempt, signal, earlier, decided) =>
        ({ runId: 'r', attempt, signal, earlierStages: earlier, decided }) as unknown as StageContext,
    });
  const decisionOf = (ctx: StageContext): Promise<void> | null =>
    (ctx as unknown as { decided: Promise<void> | null }).decided;

  it('starts the gated stage before its gate ends and hands it the gate decision', async () => {
    const events: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const check = registered('check', async () => {
      events.push('check started');
      await released;
      events.push('check passed');
      return {};
    });
    const load = registered(
      'load',
      async (ctx) => {
        events.push('load started');
        release();
        await decisionOf(ctx);
        events.push('load committed');
        return {};
      },
      { dependsOn: ['check'], gatedBy: ['check'] },
    );
    const outcomes = await executeStages(gatedPlan([check, load]));
    assert.deepEqual(events, ['check started', 'load started', 'check passed', 'load committed']);
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status]),
      [
        ['check', 'succeeded'],
        ['load', 'succeeded'],
      ],
    );
  });

  it('stops a gated stage whose gate fails, without retrying it, and records it as skipped', async () => {
    let stoppedBy: unknown = null;
    const check = registered('check', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new PermanentError('2 rows failed items_positive');
    });
    const load = registered(
      'load',
      async (ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        stoppedBy = ctx.signal.reason;
        throw ctx.signal.reason as Error;
      },
      { dependsOn: ['check'], gatedBy: ['check'] },
    );
    const publish = registered('publish', succeed, { dependsOn: ['load'] });
    const p = gatedPlan([check, load, publish]);
    const outcomes = await executeStages(p);
    assert.ok(stoppedBy instanceof GateClosedError);
    assert.equal(load.calls, 1);
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status, o.error]),
      [
        ['check', 'failed', '2 rows failed items_positive'],
        ['load', 'skipped', 'skipped: check failed; the work done alongside it was rolled back'],
        ['publish', 'skipped', 'skipped: load skipped'],
      ],
    );
    assert.deepEqual(p.observer.started, ['check', 'load']);
  });

  it('does not start a gated stage alongside when another of its dependencies did not succeed', async () => {
    const extract = registered('extract', async () => {
      throw new PermanentError('raw folder is empty');
    });
    const check = registered('check', succeed);
    const load = registered('load', succeed, { dependsOn: ['extract', 'check'], gatedBy: ['check'] });
    const outcomes = await executeStages(gatedPlan([extract, check, load]));
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status]),
      [
        ['extract', 'failed'],
        ['check', 'succeeded'],
        ['load', 'skipped'],
      ],
    );
    assert.equal(load.calls, 0);
  });

  it('runs the gated stage after its gate when side by side is off', async () => {
    const events: string[] = [];
    const check = registered('check', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push('check passed');
      return {};
    });
    const load = registered(
      'load',
      async (ctx) => {
        events.push(`load started (decision ${decisionOf(ctx) === null ? 'none' : 'pending'})`);
        return {};
      },
      { dependsOn: ['check'], gatedBy: ['check'] },
    );
    await executeStages(gatedPlan([check, load], false));
    assert.deepEqual(events, ['check passed', 'load started (decision none)']);
  });
});

describe('retry delay', () => {
  const policy = (more: Partial<RetryPolicy> = {}): RetryPolicy => ({
    attempts: 10,
    baseDelayMs: 1_000,
    maxDelayMs: 8_000,
    jitter: 0,
    ...more,
  });

  it('doubles from the base delay and stops at the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 12].map((n) => retryDelayMs(policy(), n, () => 0.5)),
      [1_000, 2_000, 4_000, 8_000, 8_000, 8_000],
    );
  });

  it('stays within ±jitter of the capped delay for any random value', () => {
    const p = policy({ jitter: 0.2 });
    for (const retry of [1, 3, 20]) {
      const capped = Math.min(8_000, 1_000 * 2 ** (retry - 1));
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const delay = retryDelayMs(p, retry, () => r);
        assert.ok(delay >= capped * 0.8 && delay <= capped * 1.2, `retry ${retry}, random ${r}: ${delay}`);
      }
      assert.equal(
        retryDelayMs(p, retry, () => 0),
        capped * 0.8,
      );
    }
  });

  it('never returns a negative delay', () => {
    assert.equal(
      retryDelayMs(policy({ baseDelayMs: 0, jitter: 1 }), 1, () => 0),
      0,
    );
    assert.equal(
      retryDelayMs(policy({ jitter: 1 }), 1, () => 0),
      0,
    );
  });
});
