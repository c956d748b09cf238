import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { databaseKinds, type TestDatabase } from '../../test/support/databases.js';
import { gate, metricValue, testRunService, type Gate } from '../../test/support/kernel.js';
import { CancelRefusedError, RunCancellations } from './run-cancellation.js';
import { planRetry, RetryRefusedError } from './run-retry.js';
import { Stage } from './stage.decorator.js';
import type { PipelineStage, StageContext, StageResult } from './stage.js';

/** Writes a row in its transaction, says so, then waits there until told to commit or to stop. */
@Injectable()
@Stage({ name: 'load', description: 'writes one row and holds its transaction open' })
class LoadStage implements PipelineStage {
  constructor(
    readonly inTransaction: Gate,
    readonly commit: Gate,
  ) {}
  async run(ctx: StageContext): Promise<StageResult> {
    await ctx.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO public.cancel_probe (run_id) VALUES ($1)`, [ctx.runId]);
      this.inTransaction.open();
      await Promise.race([
        this.commit.promise,
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }),
        ),
      ]);
    });
    return { rows: [{ table: 'public.cancel_probe', written: 1 }] };
  }
}

@Injectable()
@Stage({ name: 'publish', description: 'reads what load wrote', dependsOn: ['load'] })
class PublishStage implements PipelineStage {
  runs = 0;
  async run(): Promise<StageResult> {
    this.runs++;
    return {};
  }
}

@Injectable()
@Stage({ name: 'report', description: 'reports on every run', phase: 'finally' })
class ReportStage implements PipelineStage {
  runs = 0;
  async run(): Promise<StageResult> {
    this.runs++;
    return {};
  }
}

/**
 * What another replica's `RunCancellations.request` does to the run store. Issued here as SQL so
 * that this process's own shortcut (a run executing here is stopped at once) is not taken.
 */
const requestElsewhere = (t: TestDatabase, runId: string): Promise<unknown> =>
  t.db.pool.query(
    `UPDATE pipeline.runs SET cancel_requested_at = now(), cancel_requested_by = 'another replica' WHERE id = $1`,
    [runId],
  );

const probeRows = async (t: TestDatabase, runId: string): Promise<number> =>
  (await t.db.pool.query(`SELECT 1 FROM public.cancel_probe WHERE run_id = $1`, [runId])).rowCount ?? 0;

for (const { kind, skip, open } of databaseKinds) {
  describe(`cancelling a run (${kind})`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
      await t.db.pool.query(`CREATE TABLE public.cancel_probe (run_id uuid NOT NULL)`);
    });
    after(async () => t?.dispose());

    it('a request stops the run: its open transaction rolls back, dependents are skipped, the finally stage still runs, it ends cancelled and frees the lock', async () => {
      const load = new LoadStage(gate(), gate());
      const publish = new PublishStage();
      const report = new ReportStage();
      const k = testRunService(t.db, [load, publish, report], {
        config: { pipeline: { heartbeat_interval_ms: 200 } },
      });
      const started = await k.service.start({ trigger: 'api', runDate: '2025-04-01' });
      await load.inTransaction.promise;
      const requested = Date.now();
      const request = await new RunCancellations(t.db.pool, 60_000).request(started.runId, 'test operator');
      assert.equal(request.alreadyRequested, false);
      const ended = await started.done;
      assert.ok(Date.now() - requested < 2_000, 'stopped at once');

      assert.equal(ended.status, 'cancelled');
      const by = /^run cancelled by an operator \(requested by test operator at \d{4}-\d\d-\d\dT[\d:.]+Z\)/;
      assert.match(ended.error ?? '', new RegExp(`${by.source}; stopped in load$`));
      assert.deepEqual(
        ended.stages.map((s) => [s.stage, s.status]),
        [
          ['load', 'cancelled'],
          ['publish', 'skipped'],
          ['report', 'succeeded'],
        ],
        'the stage the cancel stopped is cancelled, not failed',
      );
      assert.match(ended.stages[0]!.error ?? '', new RegExp(`${by.source}$`));
      assert.match(ended.stages[1]!.error ?? '', new RegExp(`^skipped: ${by.source.slice(1)}$`));
      assert.equal(publish.runs, 0);
      assert.equal(report.runs, 1, 'the finally stage still reports on the run');
      assert.equal(await probeRows(t, started.runId), 0, 'the open transaction rolled back');
      const { rows } = await t.db.pool.query(`SELECT status FROM pipeline.runs WHERE id = $1`, [
        started.runId,
      ]);
      assert.deepEqual(rows, [{ status: 'cancelled' }]);
      const stored = await t.db.pool.query(
        `SELECT s.status, s.error_kind, a.outcome FROM pipeline.stage_runs s
         JOIN pipeline.stage_attempts a USING (run_id, stage) WHERE s.run_id = $1 AND s.stage = 'load'`,
        [started.runId],
      );
      assert.deepEqual(stored.rows, [{ status: 'cancelled', error_kind: null, outcome: 'cancelled' }]);
      assert.equal(await metricValue(k.metrics.runsTotal, { status: 'cancelled' }), 1);
      assert.equal(await metricValue(k.metrics.stageAttempts, { stage: 'load', outcome: 'cancelled' }), 1);
      assert.equal(await metricValue(k.metrics.runsTotal, { status: 'failed' }), 0);
      assert.equal(await metricValue(k.metrics.lockHeld), 0);

      // The lock is free again: the next run starts and, left alone, commits.
      const next = new LoadStage(gate(), gate());
      next.commit.open();
      const again = await testRunService(t.db, [next]).service.run({ trigger: 'api', runDate: '2025-04-01' });
      assert.equal(again.status, 'succeeded');
      assert.equal(await probeRows(t, again.run_id), 1);
    });

    // On the embedded database no other process can hold a run, and no write gets past an open
    // transaction: these two cases exist on PostgreSQL only.
    it(
      'a request another replica recorded is read at the next heartbeat',
      { skip: kind === 'embedded' },
      async () => {
        const load = new LoadStage(gate(), gate());
        const report = new ReportStage();
        const k = testRunService(t.db, [load, new PublishStage(), report], {
          config: { pipeline: { heartbeat_interval_ms: 300 } },
        });
        const started = await k.service.start({ trigger: 'api', runDate: '2025-04-02' });
        await load.inTransaction.promise;
        const requested = Date.now();
        await requestElsewhere(t, started.runId);
        const ended = await started.done;
        const waited = Date.now() - requested;
        assert.ok(waited < 300 + 500, `stopped ${waited} ms after the request: within one heartbeat`);
        assert.equal(ended.status, 'cancelled');
        assert.match(
          ended.error ?? '',
          /^run cancelled by an operator \(requested by another replica at [\d-]+T[\d:.]+Z\); stopped in load$/,
        );
        assert.equal(report.runs, 1);
        assert.equal(await probeRows(t, started.runId), 0);
      },
    );

    it(
      "a transaction reaching COMMIT after another replica's request rolls back before the heartbeat has seen it",
      { skip: kind === 'embedded' },
      async () => {
        const load = new LoadStage(gate(), gate());
        // A heartbeat of a minute: only the fence inside the committing transaction can notice.
        const k = testRunService(t.db, [load, new PublishStage()]);
        const started = await k.service.start({ trigger: 'api', runDate: '2025-04-02' });
        await load.inTransaction.promise;
        await requestElsewhere(t, started.runId);
        load.commit.open();
        const ended = await started.done;
        assert.equal(ended.status, 'cancelled');
        assert.deepEqual(
          ended.stages.map((s) => [s.stage, s.status]),
          [
            ['load', 'cancelled'],
            ['publish', 'skipped'],
          ],
        );
        assert.match(
          ended.stages[0]!.error ?? '',
          /^run cancelled by an operator \(requested by another replica at /,
        );
        assert.equal(ended.stages[0]!.attempts, 1, 'a cancelled stage is not retried');
        assert.equal(await probeRows(t, started.runId), 0);
      },
    );

    it('refuses to cancel an unknown run or one that has ended', async () => {
      const cancellations = new RunCancellations(t.db.pool, 60_000);
      await assert.rejects(
        cancellations.request('00000000-0000-4000-8000-000000000000', 'test'),
        (e: unknown) => e instanceof CancelRefusedError && e.reason === 'unknown',
      );
      const { rows } = await t.db.pool.query<{ id: string }>(
        `SELECT id FROM pipeline.runs WHERE status = 'succeeded' LIMIT 1`,
      );
      await assert.rejects(
        cancellations.request(rows[0]!.id, 'test'),
        (e: unknown) =>
          e instanceof CancelRefusedError &&
          e.reason === 'not-running' &&
          /is succeeded, not running/.test(e.message),
      );
    });

    it('refuses to cancel a run whose process stopped (no heartbeat for three intervals): it is abandoned', async () => {
      const id = '00000000-0000-4000-8000-00000000dead';
      await t.db.pool.query(
        `INSERT INTO pipeline.runs (id, trigger, run_date, status, owner, host, pid, code_version, config_hash, heartbeat_at)
         VALUES ($1, 'api', '2025-04-09', 'running', 'gone', 'h', 1, 'test', 'x', now() - interval '4 seconds')`,
        [id],
      );
      try {
        await assert.rejects(
          new RunCancellations(t.db.pool, 1_000).request(id, 'test'),
          (e: unknown) =>
            e instanceof CancelRefusedError &&
            e.reason === 'abandoned' &&
            /^run \S+ is abandoned: its process stopped \(no heartbeat for [45] s\)/.test(e.message),
        );
        const { rows } = await t.db.pool.query(
          `SELECT cancel_requested_at FROM pipeline.runs WHERE id = $1`,
          [id],
        );
        assert.deepEqual(rows, [{ cancel_requested_at: null }], 'no request recorded that nobody would read');
        // Within three intervals of its last heartbeat its process may still be alive: asked.
        const request = await new RunCancellations(t.db.pool, 2_000).request(id, 'test');
        assert.equal(request.alreadyRequested, false);
      } finally {
        await t.db.pool.query(`DELETE FROM pipeline.runs WHERE id = $1`, [id]);
      }
    });

    // Embedded: the run has ended by the time a second request gets through (a 409 then).
    it('asking twice is asking once', { skip: kind === 'embedded' }, async () => {
      const load = new LoadStage(gate(), gate());
      // A heartbeat of a minute: the run notices nothing until this process is asked.
      const k = testRunService(t.db, [load]);
      const started = await k.service.start({ trigger: 'api', runDate: '2025-04-03' });
      await load.inTransaction.promise;
      await requestElsewhere(t, started.runId);
      const second = await new RunCancellations(t.db.pool, 60_000).request(started.runId, 'second');
      assert.equal(second.alreadyRequested, true);
      const { rows } = await t.db.pool.query<{ at: Date }>(
        `SELECT cancel_requested_at AS at FROM pipeline.runs WHERE id = $1`,
        [started.runId],
      );
      assert.equal(second.requestedAt.getTime(), rows[0]!.at.getTime(), 'the first request stands');
      assert.match(
        (await started.done).error ?? '',
        /^run cancelled by an operator \(requested by second at /,
      );
    });

    it('plans a retry of a cancelled run from the stage it stopped in, and refuses one of a succeeded run', async () => {
      const k = testRunService(t.db, [new LoadStage(gate(), gate()), new PublishStage()]);
      const { rows } = await t.db.pool.query<{ id: string; status: string }>(
        `SELECT id, status FROM pipeline.runs WHERE run_date = '2025-04-01' ORDER BY started_at`,
      );
      assert.deepEqual(
        rows.map((r) => r.status),
        ['cancelled', 'succeeded'],
      );
      assert.deepEqual(await planRetry(k.store, k.registry, rows[0]!.id), {
        runId: rows[0]!.id,
        runDate: '2025-04-01',
        from: 'load',
      });
      await assert.rejects(
        planRetry(k.store, k.registry, rows[1]!.id),
        (e: unknown) => e instanceof RetryRefusedError && e.reason === 'finished-well',
      );
      await assert.rejects(
        planRetry(k.store, k.registry, '00000000-0000-4000-8000-000000000000'),
        (e: unknown) => e instanceof RetryRefusedError && e.reason === 'unknown',
      );
    });
  });
}
