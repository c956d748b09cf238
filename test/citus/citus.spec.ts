/**
 * The pipeline on a real Citus cluster (a coordinator and two workers, scripts/citus-cluster.sh),
 * as docs/operations.md ("Beyond one machine") describes it:
 * - migrations lay the warehouse out over the cluster, on a fresh cluster database and on one
 *   that already holds today's schema and data;
 * - the whole pipeline through the real CLI (a full load, three daily runs, a rerun, a backfill)
 *   leaves production, the warehouse, the analytics summaries and every export equal to what the
 *   same runs leave on plain PostgreSQL, by checksums over natural keys and values;
 * - a worker stopped in the middle of the warehouse stage makes the run fail cleanly (nothing of
 *   the stage written, the run lock free), and the next run succeeds.
 * One cluster for the file: starting one costs 10-20 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LOCK_NAMESPACE, LockId, type Database } from '../../libs/database/index.js';
import { WAREHOUSE_LOAD_LOCK_ID } from '../../plugins/warehouse/warehouse.repository.js';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import {
  FULL_LOAD,
  PipelineTarget,
  needsCitus,
  openDatabase as open,
  startCitusCluster,
  type CitusCluster,
} from '../support/citus-cluster.js';
import { exportsOf, stateChecksums } from '../support/pipeline-days.js';

const skip = needsCitus || needsPostgres;
if (skip) console.log(`# Citus cluster tests skipped: ${skip}`);

/** The whole pipeline: a full load, three daily runs, a rerun of one of them, a two-day backfill. */
async function sequence(target: PipelineTarget): Promise<void> {
  await target.runOk('full', ['run', '--date', FULL_LOAD]);
  for (const date of ['2025-01-01', '2025-01-02', '2025-01-03'])
    await target.runOk('daily', ['run', '--date', date]);
  await target.runOk('daily', ['run', '--date', '2025-01-02']);
  await target.runOk('daily', ['backfill', '--from', '2025-01-04', '--to', '2025-01-05']);
}

async function layout(db: Database): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ table: string; method: string }>(
    `SELECT logicalrelid::text AS table, partmethod AS method FROM pg_dist_partition ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.table, r.method]));
}

describe('the pipeline on a Citus cluster', { skip }, () => {
  let cluster: CitusCluster;
  let reference: { url: string; drop: () => Promise<void> };
  let onPostgres: PipelineTarget;
  let onCitus: PipelineTarget;
  const databases: Database[] = [];

  before(() => {
    cluster = startCitusCluster();
  });
  after(async () => {
    for (const db of databases) await db.close().catch(() => undefined);
    cluster?.stop();
    await reference?.drop();
    onPostgres?.dispose();
    onCitus?.dispose();
  });

  it("lays out a fresh cluster database: the warehouse's facts by item_id, production's and the per-transaction summary by transaction_id, dimensions as reference tables", async () => {
    onCitus = new PipelineTarget(cluster.url());
    const { code, output } = await onCitus.run('full', ['migrate']);
    assert.equal(code, 0, output);
    const db = open(cluster.url());
    databases.push(db);
    assert.deepEqual(await layout(db), {
      'analytics.transactions': 'h',
      'production.transaction_items': 'h',
      'production.transactions': 'h',
      'warehouse.dim_customers': 'n',
      'warehouse.dim_date': 'n',
      'warehouse.dim_payment_method': 'n',
      'warehouse.dim_products': 'n',
      'warehouse.fact_sales': 'h',
    });
    const { rows } = await db.pool.query<{ table: string; column: string; workers: number; group: number }>(
      `SELECT logicalrelid::text AS table, column_to_column_name(logicalrelid, partkey) AS column,
              (SELECT count(DISTINCT p.nodeport)::int FROM pg_dist_shard s
               JOIN pg_dist_shard_placement p ON p.shardid = s.shardid
               WHERE s.logicalrelid = d.logicalrelid) AS workers,
              colocationid AS group
       FROM pg_dist_partition d WHERE partmethod = 'h' ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map(({ table, column, workers }) => ({ table, column, workers })),
      [
        { table: 'analytics.transactions', column: 'transaction_id', workers: 2 },
        { table: 'production.transaction_items', column: 'transaction_id', workers: 2 },
        { table: 'production.transactions', column: 'transaction_id', workers: 2 },
        { table: 'warehouse.fact_sales', column: 'item_id', workers: 2 },
      ],
    );
    assert.equal(rows[1]!.group, rows[2]!.group, "a transaction's lines are co-located with it");
  });

  it('gives the production, warehouse, analytics and exports plain PostgreSQL gives, run for run', async () => {
    reference = await createPostgresDatabase('citus_reference');
    onPostgres = new PipelineTarget(reference.url);
    // One after the other: the machine has few cores, and each sequence is a few dozen seconds.
    await sequence(onPostgres);
    await sequence(onCitus);
    const postgresDb = open(reference.url);
    const citusDb = databases[0]!;
    databases.push(postgresDb);
    const expected = await stateChecksums(postgresDb);
    const got = await stateChecksums(citusDb);
    assert.ok(Number(expected['warehouse.fact_sales']!.split(':')[0]) > 900, 'facts loaded');
    assert.ok(
      Number(expected['warehouse.dim_customers']!.split(':')[0]) >
        Number(expected['production.customers']!.split(':')[0]),
      'customer history beyond one version per customer',
    );
    assert.deepEqual(got, expected);
    const exports = exportsOf(onCitus.dataDir);
    assert.equal(Object.keys(exports).length, 10);
    assert.deepEqual(exports, exportsOf(onPostgres.dataDir));
  });

  it('keeps the locks on the coordinator; a worker stopped mid-stage fails the run cleanly, the next run succeeds', async () => {
    const db = databases[0]!;
    const warehouseAndAnalytics = async () =>
      Object.fromEntries(
        Object.entries(await stateChecksums(db)).filter(([t]) => /^(warehouse|analytics)\./.test(t)),
      );
    const before = await warehouseAndAnalytics();

    // The warehouse stage takes this lock first thing in its transaction: held here, the stage
    // waits inside its transaction until the worker is gone.
    const holder = new pg.Client({ connectionString: cluster.url() });
    await holder.connect();
    let runId: string;
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, WAREHOUSE_LOAD_LOCK_ID]);
      const running = onCitus.run('daily', ['run', '--date', '2025-01-06']);
      for (let i = 0; ; i++) {
        const { rows } = await holder.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1`,
          [WAREHOUSE_LOAD_LOCK_ID],
        );
        if (rows.length > 0) break;
        assert.ok(i < 600, 'the warehouse stage did not start within a minute');
        await new Promise((r) => setTimeout(r, 100));
      }
      // The run lock lives on the coordinator, as every other lock of the pipeline: a second run
      // is refused there (exit 3), and no worker holds any of the pipeline's locks.
      const second = await onCitus.run('daily', ['run', '--date', '2025-01-06']);
      assert.equal(second.code, 3, second.output.slice(-2000));
      const advisory = `SELECT count(*)::int AS n FROM pg_locks
                        WHERE locktype = 'advisory' AND granted AND classid = $1::bigint::oid AND objid = $2::bigint::oid`;
      const { rows: runLock } = await holder.query<{ n: number }>(advisory, [LOCK_NAMESPACE, LockId.run]);
      assert.equal(runLock[0]!.n, 1, 'the run lock is held on the coordinator');
      for (const worker of [1, 2]) {
        const client = new pg.Client({ connectionString: cluster.url('shop', worker) });
        await client.connect();
        const { rows: held } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid`,
          [LOCK_NAMESPACE],
        );
        await client.end();
        assert.equal(held[0]!.n, 0, `worker ${worker} holds no pipeline lock`);
      }

      cluster.stopNode(1);
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, WAREHOUSE_LOAD_LOCK_ID]);
      const { code, output } = await running;
      assert.notEqual(code, 0, `the run should fail with a worker down:\n${output.slice(-2000)}`);
      const { rows } = await holder.query<{ id: string; status: string; warehouse: string }>(
        `SELECT r.id, r.status, s.status AS warehouse
         FROM pipeline.runs r JOIN pipeline.stage_runs s ON s.run_id = r.id AND s.stage = 'warehouse'
         ORDER BY r.started_at DESC LIMIT 1`,
      );
      assert.equal(rows[0]!.status, 'failed');
      assert.equal(rows[0]!.warehouse, 'failed');
      runId = rows[0]!.id;
    } finally {
      cluster.startNode(1);
      await holder.end();
    }
    // Nothing of the failed stage is left, and no run holds the lock.
    assert.deepEqual(await warehouseAndAnalytics(), before);
    const { rows: running } = await db.pool.query(`SELECT 1 FROM pipeline.runs WHERE status = 'running'`);
    assert.equal(running.length, 0);

    await onCitus.runOk('daily', ['run', '--resume', runId]);
    const { rows } = await db.pool.query<{ status: string }>(
      `SELECT status FROM pipeline.runs ORDER BY started_at DESC LIMIT 1`,
    );
    assert.equal(rows[0]!.status, 'succeeded');
    assert.notDeepEqual(await warehouseAndAnalytics(), before, 'the next run loaded the day');
  });

  it('follows a fact erased by hand without the triggers, as plain PostgreSQL does with them', async () => {
    // On PostgreSQL, statement triggers on fact_sales make the next runs recompute the product
    // sums and the analytics summaries; the cluster has none (they would run on the shards) and
    // compares totals instead. Same erasure, same next day: same state, same exports.
    const postgresDb = databases[1]!;
    const citusDb = databases[0]!;
    await onPostgres.runOk('daily', ['run', '--date', '2025-01-06']);
    const { rows } = await postgresDb.pool.query<{ item_id: string }>(
      'SELECT min(item_id) AS item_id FROM warehouse.fact_sales',
    );
    for (const db of [postgresDb, citusDb]) {
      const erased = await db.pool.query('DELETE FROM warehouse.fact_sales WHERE item_id = $1', [
        rows[0]!.item_id,
      ]);
      assert.equal(erased.rowCount, 1);
    }
    await onPostgres.runOk('daily', ['run', '--date', '2025-01-07']);
    await onCitus.runOk('daily', ['run', '--date', '2025-01-07']);
    const { rows: recomputed } = await citusDb.pool.query<{ aggregates: string }>(
      `SELECT s.details->>'aggregates_recomputed' AS aggregates
       FROM pipeline.stage_runs s JOIN pipeline.runs r ON r.id = s.run_id
       WHERE s.stage = 'warehouse' ORDER BY r.started_at DESC LIMIT 1`,
    );
    assert.equal(recomputed[0]!.aggregates, 'all', 'the cluster saw the erasure');
    assert.deepEqual(await stateChecksums(citusDb), await stateChecksums(postgresDb));
    assert.deepEqual(exportsOf(onCitus.dataDir), exportsOf(onPostgres.dataDir));
  });

  it('a worker stopped while production-etl holds its inserts fails the run cleanly; production is as before, the next run succeeds', async () => {
    // Last of this cluster's runs (2025-01-08 on the cluster alone): production's fact tables are
    // distributed too, so the stage that writes them spans the nodes like the warehouse's.
    const db = databases[0]!;
    const state = async () => stateChecksums(db);
    const before = await state();
    const running = onCitus.run('daily', ['run', '--date', '2025-01-08'], {
      PIPELINE_FAULT_POINTS: 'production-etl:loaded=delay:5000',
    });
    // The stage has inserted its lines (it holds a lock on the table) and waits at the checkpoint.
    for (let i = 0; ; i++) {
      const { rows } = await db.pool.query(
        `SELECT 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
         WHERE a.state = 'idle in transaction' AND l.relation = 'production.transaction_items'::regclass
           AND l.mode = 'RowExclusiveLock'`,
      );
      if (rows.length > 0) break;
      assert.ok(i < 600, 'production-etl did not reach its checkpoint within a minute');
      await new Promise((r) => setTimeout(r, 100));
    }
    cluster.stopNode(1);
    let runId: string;
    try {
      const outcome = await running;
      assert.equal(outcome.code, 1, outcome.output.slice(-2000));
      const { rows } = await db.pool.query<{ id: string; status: string; stage: string }>(
        `SELECT r.id, r.status, s.status AS stage
         FROM pipeline.runs r JOIN pipeline.stage_runs s ON s.run_id = r.id AND s.stage = 'production-etl'
         ORDER BY r.started_at DESC LIMIT 1`,
      );
      assert.deepEqual([rows[0]!.status, rows[0]!.stage], ['failed', 'failed']);
      runId = rows[0]!.id;
    } finally {
      cluster.startNode(1);
    }
    assert.deepEqual(
      await state(),
      before,
      'nothing of the failed run is left, on the coordinator or the shards',
    );
    await onCitus.runOk('daily', ['run', '--resume', runId]);
    assert.notDeepEqual(await state(), before, 'the next run loaded the day');
  });

  it("lays out a cluster database that already holds today's schema and data, keeping its content", async () => {
    // Today's schema and a loaded warehouse, on the coordinator without the extension (as after
    // a restore of a single-server database), then the extension and the workers, then migrate.
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE legacy OWNER root');
    await admin.end();
    const legacy = new PipelineTarget(cluster.url('legacy'));
    try {
      await legacy.runOk('full', ['run', '--date', FULL_LOAD]);
      const db = open(cluster.url('legacy'));
      databases.push(db);
      assert.deepEqual(await layout(db).catch(() => ({})), {}, 'no Citus yet');
      const beforeMove = await stateChecksums(db);

      cluster.addDatabase('legacy');
      await legacy.runOk('full', ['migrate']);
      const laidOut = await layout(db);
      assert.deepEqual(
        ['production.transactions', 'production.transaction_items', 'warehouse.fact_sales'].map(
          (t) => laidOut[t],
        ),
        ['h', 'h', 'h'],
      );
      assert.deepEqual(await stateChecksums(db), beforeMove);
      await legacy.runOk('daily', ['run', '--date', '2025-01-01']);
    } finally {
      legacy.dispose();
    }
  });
});
