/**
 * The reliability guarantees on a real Citus cluster (a coordinator and two workers,
 * scripts/citus-cluster.sh), each checked against the same days run uninterrupted and in order on
 * plain PostgreSQL, by checksums over natural keys and values and the exports' bytes:
 * - a process killed inside a stage's transaction (a fault point, as test/reliability does on one
 *   server) leaves the cluster as it was before that stage, and `run --resume` finishes the day;
 * - a run whose lock connection on the coordinator dies while its stage is inside its transaction
 *   commits nothing of that stage, and the next run loads the day;
 * - a backfill of a day between two loaded ones gives the warehouse of the days loaded in order.
 * Its own cluster (ports 5475-5477), so that it runs beside test/citus/citus.spec.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Database } from '../../libs/database/index.js';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import {
  CITUS_RELIABILITY_PORT,
  FULL_LOAD,
  PipelineTarget,
  needsCitus,
  openDatabase,
  startCitusCluster,
  type CitusCluster,
} from '../support/citus-cluster.js';
import { waitFor } from '../support/daemon-process.js';
import { exportsOf, stateChecksums } from '../support/pipeline-days.js';
import { waitInsideCheckpoint } from '../reliability/harness.js';

const skip = needsCitus || needsPostgres;
if (skip) console.log(`# Citus reliability tests skipped: ${skip}`);

describe('the reliability guarantees on a Citus cluster', { skip }, () => {
  let cluster: CitusCluster;
  let reference: { url: string; drop: () => Promise<void> };
  let onPostgres: PipelineTarget;
  let onCitus: PipelineTarget;
  let postgresDb: Database;
  let citusDb: Database;

  /** Checksums of the tables of `schemas` (production, warehouse, analytics) on the cluster. */
  const citusState = async (...schemas: string[]) =>
    Object.fromEntries(
      Object.entries(await stateChecksums(citusDb)).filter(([t]) => schemas.includes(t.split('.')[0]!)),
    );

  /** The cluster holds what plain PostgreSQL holds after the same days, exports included. */
  const sameAsPostgres = async () => {
    assert.deepEqual(await stateChecksums(citusDb), await stateChecksums(postgresDb));
    assert.deepEqual(exportsOf(onCitus.dataDir), exportsOf(onPostgres.dataDir));
  };

  const latestRun = async () =>
    (
      await citusDb.pool.query<{ id: string; status: string; resumed_from: string | null }>(
        `SELECT id, status, resumed_from FROM pipeline.runs ORDER BY started_at DESC LIMIT 1`,
      )
    ).rows[0]!;

  before(async () => {
    cluster = startCitusCluster(CITUS_RELIABILITY_PORT);
    reference = await createPostgresDatabase('citus_reliability');
    onPostgres = new PipelineTarget(reference.url);
    onCitus = new PipelineTarget(cluster.url());
    postgresDb = openDatabase(reference.url);
    citusDb = openDatabase(cluster.url());
    await onPostgres.runOk('full', ['run', '--date', FULL_LOAD]);
    await onCitus.runOk('full', ['run', '--date', FULL_LOAD]);
  });
  after(async () => {
    await citusDb?.close().catch(() => undefined);
    await postgresDb?.close().catch(() => undefined);
    cluster?.stop();
    await reference?.drop();
    onPostgres?.dispose();
    onCitus?.dispose();
  });

  for (const [date, point, written] of [
    ['2025-01-01', 'production-etl:loaded', ['production', 'warehouse', 'analytics']],
    ['2025-01-02', 'warehouse:loaded', ['warehouse', 'analytics']],
  ] as const) {
    it(`a process killed at ${point} leaves the cluster as before the stage; run --resume finishes the day`, async () => {
      const before = await citusState(...written);
      const crashed = await onCitus.run('daily', ['run', '--date', date], {
        PIPELINE_FAULT_POINTS: `${point}=crash`,
      });
      assert.equal(crashed.signal, 'SIGKILL', `the process killed itself at ${point}:\n${crashed.output}`);
      const killed = await latestRun();
      assert.equal(killed.status, 'running', 'nobody has noticed the death yet');
      // The stage's transaction spans the coordinator and the workers; none of it committed.
      assert.deepEqual(await citusState(...written), before);

      await onCitus.runOk('daily', ['run', '--resume']);
      const resumed = await latestRun();
      assert.deepEqual(
        { status: resumed.status, resumed_from: resumed.resumed_from },
        { status: 'succeeded', resumed_from: killed.id },
      );
      const { rows } = await citusDb.pool.query<{ status: string }>(
        'SELECT status FROM pipeline.runs WHERE id = $1',
        [killed.id],
      );
      assert.equal(rows[0]!.status, 'abandoned', 'the next lock holder marked the killed run abandoned');

      await onPostgres.runOk('daily', ['run', '--date', date]);
      await sameAsPostgres();
    });
  }

  it('a run that loses its lock on the coordinator inside the warehouse stage commits nothing of it; the next run loads the day', async () => {
    const date = '2025-01-03';
    const before = await citusState('warehouse', 'analytics');
    // The warehouse stage sits inside its transaction (its writes done on the shards, COMMIT not
    // sent) while the run lock's session on the coordinator is terminated.
    const running = onCitus.run('daily', ['run', '--date', date], {
      PIPELINE_FAULT_POINTS: 'warehouse:loaded=delay:8000',
    });
    const runId = await waitFor(
      'the run to start',
      async () =>
        (
          await citusDb.pool.query<{ id: string }>(
            `SELECT id FROM pipeline.runs WHERE status = 'running' AND run_date = $1`,
            [date],
          )
        ).rows[0]?.id,
      60_000,
    );
    const client = new pg.Client({ connectionString: cluster.url() });
    await client.connect();
    try {
      await waitInsideCheckpoint(client, 'warehouse', runId);
      const killed = await client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name LIKE '%:lock'`,
      );
      assert.equal(killed.rowCount, 1, 'exactly one lock connection, on the coordinator');
    } finally {
      await client.end();
    }
    const fenced = await running;
    assert.notEqual(fenced.code, 0, `the fenced run must not succeed:\n${fenced.output.slice(-2000)}`);
    const { rows } = await citusDb.pool.query<{ status: string; warehouse: string }>(
      `SELECT r.status, s.status AS warehouse
       FROM pipeline.runs r JOIN pipeline.stage_runs s ON s.run_id = r.id AND s.stage = 'warehouse'
       WHERE r.id = $1`,
      [runId],
    );
    assert.ok(['failed', 'abandoned'].includes(rows[0]!.status), `run ended ${rows[0]!.status}`);
    assert.notEqual(rows[0]!.warehouse, 'succeeded');
    assert.deepEqual(await citusState('warehouse', 'analytics'), before, 'nothing of the fenced stage');

    await onCitus.runOk('daily', ['run', '--date', date]);
    await onPostgres.runOk('daily', ['run', '--date', date]);
    await sameAsPostgres();
  });

  it('a day backfilled between two loaded days gives the warehouse of the days loaded in order', async () => {
    for (const date of ['2025-01-04', '2025-01-05', '2025-01-06'])
      await onPostgres.runOk('daily', ['run', '--date', date]);
    await onCitus.runOk('daily', ['run', '--date', '2025-01-04']);
    await onCitus.runOk('daily', ['run', '--date', '2025-01-06']);
    await onCitus.runOk('daily', ['backfill', '--from', '2025-01-05', '--to', '2025-01-05']);
    const { rows } = await citusDb.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pipeline.runs WHERE run_date = '2025-01-05' AND status = 'succeeded'`,
    );
    assert.equal(rows[0]!.n, 1, 'the middle day was loaded, last');
    await sameAsPostgres();
  });
});
