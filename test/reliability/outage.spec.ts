/**
 * Database outages, made without stopping the shared server: terminating the test database's
 * backends (a failover or a restart as the client sees it), and refusing new connections to it
 * (`ALTER DATABASE ... ALLOW_CONNECTIONS false`) for longer than the retry budget.
 *
 * The run lock is a session-level advisory lock, so it does not survive its connection: an
 * outage that takes the lock connection down ends the run (fenced, nothing half-committed) and
 * the next run finishes the day; an outage of the data connections alone is retried within the
 * run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { ADMIN_URL, createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, waitFor } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';
import { RUN_DATE, cli, scalar, smallConfig, waitInsideCheckpoint, withClient } from './harness.js';

const TOKEN = 'outage-token';

async function latestRunId(client: pg.Client): Promise<string> {
  return waitFor('a run to start', async () => {
    // Before the CLI has migrated the database the table does not exist yet.
    const { rows } = await client
      .query<{ id: string }>(
        `SELECT id FROM pipeline.runs WHERE status = 'running' ORDER BY started_at DESC LIMIT 1`,
      )
      .catch(() => ({ rows: [] as { id: string }[] }));
    return rows[0]?.id ?? null;
  });
}

async function consistentWarehouse(client: pg.Client): Promise<void> {
  assert.equal(
    await scalar(client, 'SELECT count(*) AS v FROM warehouse.fact_sales'),
    await scalar(client, 'SELECT count(*) AS v FROM production.transaction_items'),
  );
  assert.equal(
    await scalar(client, 'SELECT count(*) AS v FROM production.transaction_items'),
    await scalar(client, 'SELECT count(*) AS v FROM staging.transaction_items'),
  );
}

describe('database outages', { skip: needsPostgres }, () => {
  const drops: Array<() => Promise<void>> = [];
  const config = smallConfig();

  const fresh = async (): Promise<{ url: string; name: string }> => {
    const { url, drop } = await createPostgresDatabase('outage');
    drops.push(drop);
    return { url, name: new URL(url).pathname.slice(1) };
  };

  after(async () => {
    for (const drop of drops) await drop().catch(() => undefined);
  });

  it('data connections terminated mid-stage: the stage is retried with backoff and the run completes', async () => {
    const { url } = await fresh();
    const env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'outage-a-')),
    };
    const running = cli(
      { ...env, PIPELINE_FAULT_POINTS: 'production-etl:loaded=delay:3000' },
      'run',
      '--date',
      RUN_DATE,
    );
    await withClient(url, async (c) => {
      const runId = await latestRunId(c);
      await waitInsideCheckpoint(c, 'production-etl', runId);
      const killed = await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name NOT LIKE '%:lock'`,
      );
      assert.ok((killed.rowCount ?? 0) >= 1);
    });
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    await withClient(url, async (c) => {
      const { rows } = await c.query<{ attempt: number; outcome: string; retry_delay_ms: number | null }>(
        `SELECT a.attempt, a.outcome, a.retry_delay_ms FROM pipeline.stage_attempts a JOIN pipeline.runs r ON r.id = a.run_id
         WHERE a.stage = 'production-etl' ORDER BY a.attempt`,
      );
      assert.equal(rows.length, 2, JSON.stringify(rows));
      assert.equal(rows[0]!.outcome, 'failed');
      assert.ok((rows[0]!.retry_delay_ms ?? 0) > 0, 'a backoff delay before the retry');
      assert.equal(rows[1]!.outcome, 'succeeded');
      assert.equal(await scalar(c, `SELECT status AS v FROM pipeline.runs`), 'succeeded');
      await consistentWarehouse(c);
      recordFault({
        suite: 'database outage',
        fault: 'every data connection terminated while production-etl sat inside its transaction',
        outcome: `attempt 1 failed, retried after ${rows[0]!.retry_delay_ms} ms, attempt 2 succeeded; run succeeded`,
        lost: 'nothing: the interrupted transaction rolled back and was redone',
      });
    });
  });

  it('every backend terminated, the lock connection too: the run stops fenced, the next run completes', async () => {
    const { url } = await fresh();
    const env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'outage-b-')),
    };
    const running = cli(
      { ...env, PIPELINE_FAULT_POINTS: 'warehouse:loaded=delay:3000' },
      'run',
      '--date',
      RUN_DATE,
    );
    let runId = '';
    await withClient(url, async (c) => {
      runId = await latestRunId(c);
      await waitInsideCheckpoint(c, 'warehouse', runId);
      await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
    });
    const result = await running;
    assert.equal(result.code, 1, `the run failed: ${result.stderr}`);
    const again = await cli(env, 'run', '--date', RUN_DATE);
    assert.equal(again.code, 0, again.stderr);
    await withClient(url, async (c) => {
      const status = await scalar(c, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [runId]);
      assert.ok(['failed', 'abandoned'].includes(status), status);
      assert.equal(
        await scalar(c, `SELECT count(*) AS v FROM pipeline.runs WHERE status = 'succeeded'`),
        '1',
      );
      await consistentWarehouse(c);
      recordFault({
        suite: 'database outage',
        fault: 'every backend of the database terminated (lock connection included) during warehouse',
        outcome: `run ${status} with exit 1 (lock lost: fenced before commit); the next run succeeded`,
        lost: 'nothing: warehouse writes rolled back, reloaded by the next run',
      });
    });
  });

  it('database refusing connections longer than the retry budget: run fails, ready 503, live 200; after recovery a run succeeds', async () => {
    const { url, name } = await fresh();
    const daemon = await startDaemon({
      DATABASE_URL: url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'outage-c-')),
      PIPELINE_API_TOKEN: TOKEN,
      PIPELINE_FAULT_POINTS: 'ingestion:loaded=delay:2000',
    });
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    const post = () =>
      fetch(`${daemon.baseUrl}/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ run_date: RUN_DATE }),
      });
    try {
      const started = await post();
      assert.equal(started.status, 202);
      const { run_id: runId } = (await started.json()) as { run_id: string };
      await withClient(url, (c) => waitInsideCheckpoint(c, 'ingestion', runId));
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);

      await waitFor(
        'readiness to fail',
        async () => (await fetch(`${daemon.baseUrl}/health/ready`)).status === 503,
        20_000,
      );
      const ready = await fetch(`${daemon.baseUrl}/health/ready`);
      assert.match(ready.headers.get('content-type') ?? '', /json/);
      assert.equal(
        (await fetch(`${daemon.baseUrl}/health/live`)).status,
        200,
        'liveness never touches the database',
      );
      // The run has given up: no active run any more (it could not even record its end).
      await waitFor(
        'the run to give up',
        async () => {
          const r = await fetch(`${daemon.baseUrl}/health/ready`);
          const body = (await r.json()) as { details?: { run?: { active?: unknown } } } & Record<
            string,
            unknown
          >;
          return !JSON.stringify(body).includes(runId);
        },
        30_000,
      );
      const refused = await post();
      assert.equal(refused.status, 503, 'POST /runs while the database is down: 503, not a 500');
      assert.match(refused.headers.get('content-type') ?? '', /json/);
      assert.doesNotMatch(await refused.text(), /\bat .+\.js:\d+/);

      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      await waitFor(
        'readiness to return',
        async () => (await fetch(`${daemon.baseUrl}/health/ready`)).status === 200,
        30_000,
      );
      const retried = await post();
      const retriedBody = await retried.text();
      assert.equal(retried.status, 202, retriedBody);
      const { run_id: second } = JSON.parse(retriedBody) as { run_id: string };
      const status = await withClient(url, (c) =>
        waitFor(
          'the second run to end',
          async () => {
            const s = await scalar(c, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [second]);
            return s === 'running' ? null : s;
          },
          60_000,
        ),
      );
      assert.equal(status, 'succeeded');
      await withClient(url, async (c) => {
        const first = await scalar(c, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [runId]);
        assert.ok(['failed', 'abandoned'].includes(first), first);
        await consistentWarehouse(c);
        recordFault({
          suite: 'database outage',
          fault:
            'database refusing connections (ALLOW_CONNECTIONS false) for longer than the retry budget, during ingestion',
          outcome: `run ${first}; /health/ready 503, /health/live 200, POST /runs ${refused.status}; after recovery ready 200 and the next run succeeded`,
          lost: 'nothing: the interrupted ingestion rolled back, the next run loaded everything',
        });
      });
    } finally {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  });

  it('a daemon started against a port that refuses exits 1 with one line; once the database is there a run succeeds', async () => {
    const { url } = await fresh();
    const refused = new URL(url);
    refused.port = '1';
    const dataDir = mkdtempSync(join(tmpdir(), 'outage-d-'));
    const down = await cli(
      { DATABASE_URL: refused.toString(), PIPELINE_CONFIG: config, PIPELINE_DATA_DIR: dataDir },
      'serve',
    );
    assert.equal(down.code, 1, down.stderr);
    assert.deepEqual(down.stderr.trim().split('\n'), ['pipeline: connect ECONNREFUSED 127.0.0.1:1']);
    const up = await cli(
      { DATABASE_URL: url, PIPELINE_CONFIG: config, PIPELINE_DATA_DIR: dataDir },
      'run',
      '--date',
      RUN_DATE,
    );
    assert.equal(up.code, 0, up.stderr);
    recordFault({
      suite: 'database outage',
      fault: 'daemon started while its database port refuses connections (127.0.0.1:1)',
      outcome:
        'serve exits 1 with one line (connect ECONNREFUSED); with the database reachable the same data folder runs the day to success',
      lost: 'nothing',
    });
  });
});
