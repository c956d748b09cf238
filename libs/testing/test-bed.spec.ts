import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import {
  definePlugin,
  gaugeMetric,
  PermanentError,
  Stage,
  stageOutput,
  type PipelineStage,
  type QueryRunner,
  type StageContext,
  type StageOutcome,
  type StageResult,
} from '@pipeline/kernel';
import {
  createTestBed,
  FakeClock,
  postgresUnavailable,
  stageSettings,
  unreachableDatabase,
  type TestBed,
} from '@pipeline/kernel/testing';

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

const statementSettings = z.object({ per_point: z.number().positive().default(1) });

/** Writes a statement file for the points awarded: settings, data folder and outputs at work. */
@Stage({
  name: 'write-statement',
  description: 'writes the points statement',
  dependsOn: ['award-points'],
  config: { key: 'statement', schema: statementSettings },
})
class WriteStatementStage implements PipelineStage<z.infer<typeof statementSettings>> {
  async run(ctx: StageContext<z.infer<typeof statementSettings>>): Promise<StageResult> {
    const points = ctx.outputOf('award-points', awarded)?.points;
    if (points === undefined) throw new PermanentError('no points awarded in this run');
    writeFileSync(join(ctx.paths.own, `${ctx.runDate}.txt`), String(points * ctx.settings.per_point));
    return {};
  }
}

const plugin = definePlugin({
  name: '@acme/points',
  version: '1.0.0',
  kernelApi: '^1.0.0',
  stages: [ReportPointsStage, AwardPointsStage, WriteStatementStage],
  migrations: [PointsTable1766000000000],
  metrics: [pointsGauge],
  dataFolder: 'statements',
});

/** How `award-points` ended in an earlier run: what `write-statement` reads. */
const awardedSeven: StageOutcome = {
  stage: 'award-points',
  status: 'succeeded',
  attempts: 1,
  durationMs: 10,
  error: null,
  result: { outputs: { [awarded.name]: { points: 7 } } },
};

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
        ['write-statement', 'succeeded'],
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

  it('hands a stage called directly its context: settings, data folder, earlier outcomes', async () => {
    const ctx = bed.context<z.infer<typeof statementSettings>>('write-statement', {
      runDate: '2025-03-03',
      config: { statement: { per_point: 3 } },
      earlierStages: [awardedSeven],
    });
    assert.deepEqual(ctx.settings, { per_point: 3 });
    assert.equal(ctx.paths.own, join(bed.config.dataDir, 'statements'));
    await new WriteStatementStage().run(ctx);
    assert.equal(readFileSync(join(ctx.paths.own, '2025-03-03.txt'), 'utf8'), '21');
  });

  it('hands a context the run it is part of: its id, date and stop signal', () => {
    const stop = new AbortController();
    const ctx = bed.context('award-points', { runId: 'run-1', runDate: '2025-03-05', signal: stop.signal });
    assert.deepEqual([ctx.runId, ctx.runDate, ctx.attempt], ['run-1', '2025-03-05', 1]);
    assert.equal(ctx.signal.aborted, false);
    stop.abort();
    assert.equal(ctx.signal.aborted, true);
    assert.notEqual(bed.context('award-points').runId, bed.context('award-points').runId, 'a fresh id each');
  });

  it('lets what a stage called directly throws reach the test as it is', async () => {
    await assert.rejects(
      new WriteStatementStage().run(bed.context('write-statement')),
      (error) => error instanceof PermanentError && /no points awarded/.test(error.message),
    );
  });

  it('runs a stage on a data folder the test gives, made as a run makes it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'points-data-'));
    try {
      const outcome = await bed.runStage('write-statement', {
        runDate: '2025-03-04',
        dataDir,
        earlierStages: [awardedSeven],
      });
      assert.equal(outcome.status, 'succeeded', outcome.error ?? '');
      assert.equal(readFileSync(join(dataDir, 'statements', '2025-03-04.txt'), 'utf8'), '7');
      assert.ok(existsSync(join(dataDir, 'processed')), 'the kernel folder for the run report');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('gives a run an empty data folder of its own when asked, and removes it with the bed', async () => {
    const other = await createTestBed({ plugins: [plugin] });
    const dataDir = other.newDataDir();
    try {
      assert.notEqual(dataDir, other.config.dataDir);
      const ctx = other.context<z.infer<typeof statementSettings>>('write-statement', {
        dataDir,
        earlierStages: [awardedSeven],
      });
      assert.equal(ctx.paths.root, dataDir);
      await new WriteStatementStage().run(ctx);
      assert.deepEqual(readdirSync(ctx.paths.own), ['2025-01-01.txt']);
    } finally {
      await other.dispose();
    }
    assert.equal(existsSync(dataDir), false);
  });

  it('refuses a bed without a plugin whose tables one of its plugins reads, as start-up does', async () => {
    const reader = definePlugin({ ...plugin, name: '@acme/points-report', reads: ['@acme/points-ledger'] });
    await assert.rejects(
      createTestBed({ plugins: [reader] }),
      /^PluginLoadError: plugin @acme\/points-report reads the tables of @acme\/points-ledger, which is not loaded/,
    );
  });

  it('refuses a configuration that fails a stage schema, naming the key', () => {
    assert.throws(
      () => bed.context('write-statement', { config: { statement: { per_point: -1 } } }),
      /statement\.per_point/,
    );
  });

  it('runs a stage on a database that cannot be reached, as when the server is down', async () => {
    const down = unreachableDatabase();
    try {
      await assert.rejects(
        new AwardPointsStage().run(bed.context('award-points', { db: down })),
        /ECONNREFUSED|connect/,
      );
    } finally {
      await down.close();
    }
  });

  it('sets the metrics back to zero for a test that reads what one run recorded', async () => {
    const gauge = () => bed.metrics.forPlugin('@acme/points').get(pointsGauge).get();
    await bed.runStage('award-points');
    assert.equal((await gauge()).values[0]?.value, 7);
    bed.resetMetrics();
    assert.equal((await gauge()).values[0]?.value ?? 0, 0);
  });

  it("has the kernel's own schema, as pipeline migrate leaves it", async () => {
    const { rows } = await bed.db.pool.query<{ table: string }>(
      `SELECT table_name AS table FROM information_schema.tables
        WHERE table_schema = 'pipeline' AND table_name IN ('runs', 'quarantine') ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.table),
      ['quarantine', 'runs'],
    );
  });

  it('applies migrations that are pending, and only those', async () => {
    assert.deepEqual(await bed.migrate(), []);
    await bed.db.pool.query(
      `DROP SCHEMA points CASCADE; DELETE FROM pipeline.migrations_acme_points WHERE name = 'PointsTable1766000000000'`,
    );
    assert.deepEqual(await bed.migrate(), ['PointsTable1766000000000']);
  });
});

describe('stage settings without a bed', () => {
  it('gives a stage its section of the configuration, defaults filled in', () => {
    assert.deepEqual(stageSettings(WriteStatementStage, { statement: { per_point: 2 } }), { per_point: 2 });
    assert.deepEqual(stageSettings(WriteStatementStage), { per_point: 1 });
    assert.equal(stageSettings(AwardPointsStage), undefined, 'a stage without a section has no settings');
  });

  it('refuses a bad value as start-up does, naming the key', () => {
    assert.throws(
      () => stageSettings(WriteStatementStage, { statement: { per_point: 0 } }),
      /statement\.per_point/,
    );
  });
});

describe('a test bed on PostgreSQL', { skip: await postgresUnavailable() }, () => {
  it('makes its database on the server, and drops it', async () => {
    const bed = await createTestBed({ plugins: [plugin], database: 'postgres', poolSize: 2 });
    let name: string;
    try {
      assert.equal(bed.db.kind, 'postgres');
      name = (await bed.db.pool.query<{ name: string }>('SELECT current_database() AS name')).rows[0]!.name;
      const client = new pg.Client({ connectionString: bed.url! });
      await client.connect();
      try {
        const same = await client.query<{ name: string }>('SELECT current_database() AS name');
        assert.equal(same.rows[0]!.name, name, 'its URL reaches the same database');
      } finally {
        await client.end();
      }
      assert.equal((await bed.runStage('award-points')).status, 'succeeded');
    } finally {
      await bed.dispose();
    }
    const other = await createTestBed({ plugins: [plugin], database: 'postgres', poolSize: 1 });
    try {
      const { rows } = await other.db.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      assert.deepEqual(rows, [], `${name} dropped`);
    } finally {
      await other.dispose();
    }
  });
});
