import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { freshPostgres, needsPostgres, type TestDatabase } from '../../test/support/databases.js';
import { gate, testRunService, type Gate } from '../../test/support/kernel.js';
import { PermanentError } from './errors.js';
import { Stage } from './stage.decorator.js';
import type { PipelineStage, StageContext, StageResult } from './stage.js';

/** What the test controls and observes in the stages below. */
const hooks: {
  decide: Gate | null;
  closes: boolean;
  decided: boolean;
  loading: Gate | null;
  loadStartedBeforeDecision: boolean | null;
} = { decide: null, closes: false, decided: false, loading: null, loadStartedBeforeDecision: null };

@Injectable()
@Stage({ name: 'check', description: 'a gate: passes or closes once the test lets it decide' })
class CheckStage implements PipelineStage {
  async run(): Promise<StageResult> {
    await hooks.decide?.promise;
    hooks.decided = true;
    if (hooks.closes) throw new PermanentError('3 rows of staging.items failed items_positive');
    return {};
  }
}

@Injectable()
@Stage({
  name: 'load',
  description: 'writes a row in a transaction; gated by check',
  dependsOn: ['check'],
  gatedBy: ['check'],
})
class LoadStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    hooks.loadStartedBeforeDecision = !hooks.decided;
    await ctx.db.transaction(async (tx) => {
      await tx.query('INSERT INTO gate_test.loaded (run_id) VALUES ($1)', [ctx.runId]);
      hooks.loading?.open();
    });
    return {};
  }
}

@Injectable()
@Stage({ name: 'publish', description: 'reads what load wrote', dependsOn: ['load'] })
class PublishStage implements PipelineStage {
  async run(): Promise<StageResult> {
    return {};
  }
}

const stages = (): PipelineStage[] => [new CheckStage(), new LoadStage(), new PublishStage()];

describe('a gated stage on PostgreSQL', { skip: needsPostgres }, () => {
  let t: TestDatabase;
  const loadedRows = async (runId: string): Promise<number> => {
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM gate_test.loaded WHERE run_id = $1',
      [runId],
    );
    return rows[0]!.n;
  };

  before(async () => {
    t = await freshPostgres();
    await t.db.pool.query('CREATE SCHEMA gate_test; CREATE TABLE gate_test.loaded (run_id uuid NOT NULL)');
  });
  after(async () => {
    await t?.dispose();
  });
  beforeEach(() => {
    Object.assign(hooks, {
      decide: gate(),
      closes: false,
      decided: false,
      loading: gate(),
      loadStartedBeforeDecision: null,
    });
  });

  it('starts alongside its gate and commits its work only once the gate has passed', async () => {
    const { service } = testRunService(t.db, stages());
    const run = await service.start({ trigger: 'api', runDate: '2025-05-01' });
    await hooks.loading!.promise;
    assert.equal(hooks.loadStartedBeforeDecision, true, 'load started before check decided');
    assert.equal(service.current?.stage, 'check, load');
    assert.equal(await loadedRows(run.runId), 0, 'nothing committed while the gate is undecided');

    hooks.decide!.open();
    const report = await run.done;
    assert.equal(report.status, 'succeeded', report.error ?? '');
    assert.deepEqual(
      report.stages.map((s) => [s.stage, s.status]),
      [
        ['check', 'succeeded'],
        ['load', 'succeeded'],
        ['publish', 'succeeded'],
      ],
    );
    assert.equal(await loadedRows(run.runId), 1);
  });

  it('rolls its work back and is skipped, with its dependents, when the gate closes', async () => {
    hooks.closes = true;
    const { service, store } = testRunService(t.db, stages());
    const run = await service.start({ trigger: 'api', runDate: '2025-05-02' });
    await hooks.loading!.promise;
    hooks.decide!.open();
    const report = await run.done;

    assert.equal(report.status, 'failed');
    const byStage = Object.fromEntries(report.stages.map((s) => [s.stage, s]));
    assert.equal(byStage.check!.status, 'failed');
    assert.equal(byStage.load!.status, 'skipped');
    assert.match(
      byStage.load!.error ?? '',
      /^skipped: check failed; the work done alongside it was rolled back/,
    );
    assert.equal(byStage.load!.attempts, 1, 'a closed gate is not retried');
    assert.equal(byStage.publish!.status, 'skipped');
    assert.match(report.error ?? '', /^check: 3 rows of staging.items failed/);
    assert.equal(await loadedRows(run.runId), 0, 'the gated work was rolled back');
    const recorded = await store.stagesOf(run.runId);
    assert.equal(recorded.find((s) => s.stage === 'load')?.status, 'skipped');
  });

  it('waits for its gate to finish with pipeline.gates_side_by_side: false', async () => {
    const { service } = testRunService(t.db, stages(), {
      config: { pipeline: { gates_side_by_side: false } },
    });
    const run = await service.start({ trigger: 'api', runDate: '2025-05-03' });
    hooks.decide!.open();
    const report = await run.done;
    assert.equal(report.status, 'succeeded', report.error ?? '');
    assert.equal(hooks.loadStartedBeforeDecision, false);
    assert.equal(await loadedRows(run.runId), 1);
  });
});
