import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import {
  definePlugin,
  gaugeMetric,
  Stage,
  stageOutput,
  type PipelineStage,
  type QueryRunner,
  type StageContext,
  type StageResult,
} from '@pipeline/kernel';
import { createTestBed, FakeClock, type TestBed } from '@pipeline/kernel/testing';

const pointsGauge = gaugeMetric({
  name: 'pipeline_test_points_awarded',
  help: 'Points awarded by the last run.',
});
const awarded = stageOutput('points-awarded', z.object({ points: z.number().int() }));

class PointsTable1766000000000 {
  readonly name = 'PointsTable1766000000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE SCHEMA points; CREATE TABLE points.awards (run_date date PRIMARY KEY, points int NOT NULL)',
    );
  }
  async down(): Promise<void> {}
}

@Stage({
  name: 'award-points',
  description: 'awards a point per order',
  retry: { attempts: 3, baseDelayMs: 5000 },
})
class AwardPointsStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    await ctx.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO points.awards (run_date, points) VALUES ($1, 7)
         ON CONFLICT (run_date) DO UPDATE SET points = EXCLUDED.points`,
        [ctx.runDate],
      );
    });
    await ctx.checkpoint('award-points:awarded');
    ctx.metrics.get(pointsGauge).set(7);
    return { rows: [{ table: 'points.awards', written: 1 }], outputs: { [awarded.name]: { points: 7 } } };
  }
}

@Stage({ name: 'report-points', description: 'reports what was awarded', dependsOn: ['award-points'] })
class ReportPointsStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return { details: { reported: ctx.outputOf('award-points', awarded)?.points ?? null } };
  }
}

const plugin = definePlugin({
  name: '@acme/points',
  version: '1.0.0',
  kernelApi: '^1.0.0',
  stages: [ReportPointsStage, AwardPointsStage],
  migrations: [PointsTable1766000000000],
  metrics: [pointsGauge],
});

describe('the test kit (@pipeline/kernel/testing)', () => {
  let bed: TestBed;
  before(async () => {
    bed = await createTestBed({ plugins: [plugin] });
  });
  after(async () => bed?.dispose());

  it('runs one stage against a fresh database that has its plugin migrations', async () => {
    const outcome = await bed.runStage('award-points', { runDate: '2025-03-01' });
    assert.equal(outcome.status, 'succeeded', outcome.error ?? '');
    const { rows } = await bed.db.pool.query('SELECT run_date::text, points FROM points.awards');
    assert.deepEqual(rows, [{ run_date: '2025-03-01', points: 7 }]);
    assert.equal((await bed.metrics.forPlugin('@acme/points').get(pointsGauge).get()).values[0]?.value, 7);
  });

  it('runs a whole plugin in dependency order, handing outputs on', async () => {
    const outcomes = await bed.runPlugins({ runDate: '2025-03-02' });
    assert.deepEqual(
      outcomes.map((o) => [o.stage, o.status]),
      [
        ['award-points', 'succeeded'],
        ['report-points', 'succeeded'],
      ],
    );
    assert.deepEqual(outcomes[1]!.result?.details, { reported: 7 });
  });

  it('injects a fault at a checkpoint and retries on a fake clock, without waiting', async () => {
    const clock = new FakeClock();
    const started = Date.now();
    const outcome = await bed.runStage('award-points', { faults: 'award-points:awarded=fail', clock });
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.attempts, 2);
    assert.equal(clock.sleeps.length, 1, 'one backoff before the second attempt');
    assert.ok(clock.sleeps[0]! >= 2500, `backed off ${clock.sleeps[0]} ms of fake time`);
    assert.ok(Date.now() - started < 5000, 'and no real wait');
  });
});
