import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import pg from 'pg';
import { Secret } from '../config/index.js';
import { PostgresDatabase } from '../database/index.js';
import { ADMIN_URL, freshPostgres, needsPostgres, type TestDatabase } from '../../test/support/databases.js';
import { gate, metricValue, testRunService, type Gate } from '../../test/support/kernel.js';
import { FencedError, PermanentError } from './errors.js';
import { AdvisoryRunLock } from './run-lock.js';
import { RunDateTakenError } from './run.repository.js';
import { RunLockedError, RunRequestError } from './run.service.js';
import { Stage } from './stage.decorator.js';
import type { PipelineStage, StageContext, StageResult } from './stage.js';

/** What the test controls in the stages below. */
const hooks: { hold: Gate | null; inside: Gate | null; transactionError: unknown; failThird: boolean } = {
  hold: null,
  inside: null,
  transactionError: null,
  failThird: true,
};
const calls: Record<string, number> = {};
const count = (name: string): void => {
  calls[name] = (calls[name] ?? 0) + 1;
};

@Injectable()
@Stage({ name: 'hold', description: 'waits until the test lets it finish' })
class HoldStage implements PipelineStage {
  async run(): Promise<StageResult> {
    await hooks.hold?.promise;
    return {};
  }
}

@Injectable()
@Stage({ name: 'fenced-write', description: 'writes, then waits inside its transaction before commit' })
class FencedWriteStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    try {
      await ctx.db.transaction(async (tx) => {
        await tx.query('INSERT INTO kernel_test.writes (run_id, stage) VALUES ($1, $2)', [
          ctx.runId,
          'fenced-write',
        ]);
        hooks.inside?.open();
        await hooks.hold?.promise;
      });
    } catch (error) {
      hooks.transactionError = error;
      throw error;
    }
    return {};
  }
}

@Injectable()
@Stage({ name: 'patient', description: 'works until told to stop' })
class PatientStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }),
    );
  }
}

function counted(name: string, fails = false) {
  @Injectable()
  @Stage({ name, description: `counts its runs (${name})`, dependsOn: name === 'fourth' ? ['third'] : [] })
  class CountedStage implements PipelineStage {
    async run(): Promise<StageResult> {
      count(name);
      if (fails && hooks.failThird)
        throw new PermanentError('transactions.csv line 2 column total_amount: not a number');
      return {};
    }
  }
  return new CountedStage();
}

describe('run lock, fencing and run keys on PostgreSQL', { skip: needsPostgres }, () => {
  let t: TestDatabase;
  let database: string;
  const replicas: PostgresDatabase[] = [];

  const replica = (name: string): PostgresDatabase => {
    const db = new PostgresDatabase({
      url: new Secret(t.url!),
      poolSize: 4,
      statementTimeoutMs: 60_000,
      connectTimeoutMs: 5_000,
      applicationName: name,
    });
    replicas.push(db);
    return db;
  };
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  before(async () => {
    t = await freshPostgres();
    database = new URL(t.url!).pathname.slice(1);
    await t.db.pool.query(
      'CREATE SCHEMA kernel_test; CREATE TABLE kernel_test.writes (run_id uuid NOT NULL, stage text NOT NULL)',
    );
  });
  after(async () => {
    for (const db of replicas) await db.close().catch(() => undefined);
    await t?.dispose();
  });
  beforeEach(() => {
    hooks.hold = null;
    hooks.inside = null;
    hooks.transactionError = null;
  });

  it('lets exactly one of two replicas start a run; the other gets RunLockedError, counts it and records a skip', async () => {
    const [dbA, dbB] = [replica('replica-a'), replica('replica-b')];
    const a = testRunService(dbA, [new HoldStage()], { lock: new AdvisoryRunLock(dbA) });
    const b = testRunService(dbB, [new HoldStage()], { lock: new AdvisoryRunLock(dbB) });
    hooks.hold = gate();
    const results = await Promise.allSettled([
      a.service.start({ trigger: 'api', runDate: '2025-04-01' }),
      b.service.start({ trigger: 'api', runDate: '2025-04-01' }),
    ]);
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    assert.equal(started.length, 1);
    assert.equal(refused.length, 1);
    assert.ok(refused[0] instanceof RunLockedError);

    const [winner, loser] = results[0]!.status === 'fulfilled' ? [a, b] : [b, a];
    assert.equal(await metricValue(loser.metrics.lockContended), 1);
    assert.equal(await metricValue(winner.metrics.lockContended), 0);
    assert.equal(await metricValue(winner.metrics.lockHeld), 1);
    const skips = await t.db.pool.query(
      `SELECT trigger, to_char(run_date, 'YYYY-MM-DD') AS run_date, reason FROM pipeline.run_skips`,
    );
    assert.deepEqual(skips.rows, [
      { trigger: 'api', run_date: '2025-04-01', reason: 'lock held by another run' },
    ]);
    const running = await t.db.pool.query(
      `SELECT count(*)::int AS n FROM pipeline.runs WHERE status = 'running'`,
    );
    assert.equal(running.rows[0].n, 1);

    hooks.hold.open();
    assert.equal((await started[0]!.done).status, 'succeeded');
    assert.equal(await metricValue(winner.metrics.lockHeld), 0);
    // Released: the other replica can run now.
    assert.equal((await loser.service.run({ trigger: 'api', runDate: '2025-04-01' })).status, 'succeeded');
  });

  it('fences a run whose lock connection is killed: its transaction does not commit and the run fails', async () => {
    const db = replica('replica-fenced');
    const k = testRunService(db, [new FencedWriteStage(), new HoldStage()], {
      lock: new AdvisoryRunLock(db),
    });
    hooks.hold = gate();
    hooks.inside = gate();
    const started = await k.service.start({ trigger: 'cli', runDate: '2025-04-02' });
    await hooks.inside.promise;

    // With a timeout, pg_terminate_backend waits for the backend to exit. Without it, the commit
    // could run while the signalled backend still held the lock (a slow exit under load), and
    // the fence would rightly let it through: no other session could have taken the lock yet.
    const killed = await admin((c) =>
      c.query(
        `SELECT pg_terminate_backend(pid, 10000) AS killed FROM pg_stat_activity WHERE application_name LIKE '%:lock' AND datname = $1`,
        [database],
      ),
    );
    assert.deepEqual(killed.rows, [{ killed: true }]);
    hooks.hold.open();
    const report = await started.done;

    assert.ok(
      hooks.transactionError instanceof FencedError,
      `transaction threw ${String(hooks.transactionError)}`,
    );
    assert.equal(report.status, 'failed');
    assert.match(report.error ?? '', /^fenced-write: lost the run lock/);
    const written = await t.db.pool.query(
      'SELECT count(*)::int AS n FROM kernel_test.writes WHERE run_id = $1',
      [started.runId],
    );
    assert.equal(written.rows[0].n, 0);
    const stages = await t.db.pool.query(
      'SELECT stage, status, error_kind FROM pipeline.stage_runs WHERE run_id = $1 ORDER BY position',
      [started.runId],
    );
    assert.deepEqual(stages.rows, [
      { stage: 'fenced-write', status: 'failed', error_kind: 'permanent' },
      { stage: 'hold', status: 'skipped', error_kind: null },
    ]);
    const run = await t.db.pool.query('SELECT status FROM pipeline.runs WHERE id = $1', [started.runId]);
    assert.deepEqual(run.rows, [{ status: 'failed' }]);
    assert.equal(await metricValue(k.metrics.lockHeld), 0);
  });

  it('marks a run left running by a dead process as abandoned when the next run takes the lock', async () => {
    const orphan = '11111111-1111-4111-8111-111111111111';
    await t.db.pool.query(
      `INSERT INTO pipeline.runs (id, trigger, run_date, status, owner, code_version, config_hash, started_at, heartbeat_at)
       VALUES ($1, 'schedule', '2025-04-03', 'running', 'dead-process', 'test', 'x', now() - interval '2 hours', now() - interval '1 hour')`,
      [orphan],
    );
    await t.db.pool.query(
      `INSERT INTO pipeline.stage_runs (run_id, stage, position, status, started_at) VALUES ($1, 'hold', 1, 'running', now() - interval '1 hour')`,
      [orphan],
    );
    const k = testRunService(t.db, [new HoldStage()]);
    const report = await k.service.run({ trigger: 'cli', runDate: '2025-04-03' });
    assert.equal(report.status, 'succeeded');

    const { rows } = await t.db.pool.query(
      'SELECT status, error, finished_at IS NOT NULL AS finished FROM pipeline.runs WHERE id = $1',
      [orphan],
    );
    assert.equal(rows[0].status, 'abandoned');
    assert.equal(rows[0].finished, true);
    assert.match(
      rows[0].error,
      /^abandoned: its process stopped or lost the run lock \(last heartbeat 01:00:0\d ago\)$/,
    );
    const stage = await t.db.pool.query('SELECT status, error FROM pipeline.stage_runs WHERE run_id = $1', [
      orphan,
    ]);
    assert.deepEqual(stage.rows, [{ status: 'failed', error: 'abandoned with its run' }]);
    assert.equal(await metricValue(k.metrics.runsTotal, { status: 'abandoned' }), 1);
  });

  it('stops a run that another process marked abandoned, without overwriting that verdict', async () => {
    const k = testRunService(t.db, [new PatientStage()], {
      config: { pipeline: { heartbeat_interval_ms: 100 } },
    });
    const started = await k.service.start({ trigger: 'cli', runDate: '2025-04-04' });
    await t.db.pool.query(`UPDATE pipeline.runs SET status = 'abandoned' WHERE id = $1`, [started.runId]);
    const report = await started.done;
    assert.equal(report.status, 'failed');
    assert.equal(report.error, 'patient: the run was marked abandoned by another process');
    const { rows } = await t.db.pool.query('SELECT status FROM pipeline.runs WHERE id = $1', [started.runId]);
    assert.deepEqual(rows, [{ status: 'abandoned' }]);
    assert.equal(await metricValue(k.metrics.lockHeld), 0);
  });

  it('resumes the latest failed run from its failed stage, on the same business date, without rerunning earlier stages', async () => {
    const stages = () => [counted('first'), counted('second'), counted('third', true), counted('fourth')];
    hooks.failThird = true;
    const failed = await testRunService(t.db, stages()).service.run({
      trigger: 'cli',
      runDate: '2025-02-03',
    });
    assert.equal(failed.status, 'failed');
    assert.deepEqual(
      failed.stages.map((s) => `${s.stage}:${s.status}`),
      ['first:succeeded', 'second:succeeded', 'third:failed', 'fourth:skipped'],
    );
    assert.deepEqual(calls, { first: 1, second: 1, third: 1 });

    hooks.failThird = false;
    const resumed = await testRunService(t.db, stages()).service.run({ trigger: 'cli', resume: 'latest' });
    assert.equal(resumed.status, 'succeeded');
    assert.equal(resumed.run_date, '2025-02-03');
    assert.equal(resumed.resumed_from, failed.run_id);
    assert.deepEqual(
      resumed.stages.map((s) => `${s.stage}:${s.status}`),
      ['third:succeeded', 'fourth:succeeded'],
    );
    assert.deepEqual(calls, { first: 1, second: 1, third: 2, fourth: 1 });
    const { rows } = await t.db.pool.query(
      `SELECT resumed_from, to_char(run_date, 'YYYY-MM-DD') AS run_date FROM pipeline.runs WHERE id = $1`,
      [resumed.run_id],
    );
    assert.deepEqual(rows, [{ resumed_from: failed.run_id, run_date: '2025-02-03' }]);
  });

  it('refuses to resume a run that does not exist, is not a run id, or has succeeded', async () => {
    const k = testRunService(t.db, [
      counted('first'),
      counted('second'),
      counted('third', true),
      counted('fourth'),
    ]);
    const { rows } = await t.db.pool.query<{ id: string }>(
      `SELECT id FROM pipeline.runs WHERE status = 'succeeded' LIMIT 1`,
    );
    await assert.rejects(
      k.service.start({ trigger: 'cli', resume: rows[0]!.id }),
      (e: unknown) => e instanceof RunRequestError && /is succeeded/.test(e.message),
    );
    await assert.rejects(
      k.service.start({ trigger: 'cli', resume: '22222222-2222-4222-8222-222222222222' }),
      (e: unknown) =>
        e instanceof RunRequestError && e.message === 'no run 22222222-2222-4222-8222-222222222222',
    );
    await assert.rejects(
      k.service.start({ trigger: 'cli', resume: 'yesterday' }),
      (e: unknown) => e instanceof RunRequestError && /yesterday/.test(e.message),
    );
  });

  it('refuses a second scheduled run for the same business date, and allows one once the first is abandoned', async () => {
    const k = testRunService(t.db, [new HoldStage()]);
    const first = await k.service.run({ trigger: 'schedule', runDate: '2025-06-01' });
    assert.equal(first.status, 'succeeded');
    await assert.rejects(
      k.service.run({ trigger: 'schedule', runDate: '2025-06-01' }),
      (e: unknown) => e instanceof RunDateTakenError && e.runDate === '2025-06-01',
    );
    const skips = await t.db.pool.query(
      `SELECT reason FROM pipeline.run_skips WHERE run_date = '2025-06-01'`,
    );
    assert.deepEqual(skips.rows, [{ reason: 'scheduled run for this date exists' }]);
    // The lock was released after the refusal: other runs go on.
    assert.equal((await k.service.run({ trigger: 'cli', runDate: '2025-06-01' })).status, 'succeeded');

    await t.db.pool.query(`UPDATE pipeline.runs SET status = 'abandoned' WHERE id = $1`, [first.run_id]);
    assert.equal((await k.service.run({ trigger: 'schedule', runDate: '2025-06-01' })).status, 'succeeded');
  });

  it('keys a scheduled run by its cron tick: the same tick runs once, another tick of the same date runs too', async () => {
    const k = testRunService(t.db, [new HoldStage()]);
    const morning = new Date('2025-06-02T06:00:00Z');
    const evening = new Date('2025-06-02T18:00:00Z');
    const first = await k.service.run({ trigger: 'schedule', runDate: '2025-06-02', scheduledFor: morning });
    const { rows } = await t.db.pool.query<{ scheduled_for: Date }>(
      'SELECT scheduled_for FROM pipeline.runs WHERE id = $1',
      [first.run_id],
    );
    assert.equal(rows[0]!.scheduled_for.toISOString(), morning.toISOString());
    assert.equal(await k.store.hasScheduledRun('2025-06-02', morning), true);
    assert.equal(await k.store.hasScheduledRun('2025-06-02', evening), false);
    await assert.rejects(
      k.service.run({ trigger: 'schedule', runDate: '2025-06-02', scheduledFor: morning }),
      RunDateTakenError,
    );
    const second = await k.service.run({ trigger: 'schedule', runDate: '2025-06-02', scheduledFor: evening });
    assert.equal(second.status, 'succeeded');
  });
});
