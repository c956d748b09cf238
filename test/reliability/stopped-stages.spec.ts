/**
 * Stages that cannot finish: an input that would block forever (a named pipe), a statement that
 * waits for a lock another session holds past the stage's timeout, one that computes past it,
 * and processes stopped in the middle of such a statement (SIGTERM to the daemon, Ctrl-C or
 * SIGKILL to the CLI). Real daemon and CLI processes on fresh PostgreSQL databases. In every case
 * the run ends, the run lock is free again and no statement of the pipeline is left running on
 * the server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { CLI, startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';
import { RUN_DATE, cli, postRun, scalar, withClient } from './harness.js';

const TOKEN = 'stopped-stages-token';

/** A small data set; `pipeline` holds extra lines of the pipeline section, `extra` more sections. */
function config(pipeline: string[] = [], extra: string[] = []): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stopped-config-')), 'config.yaml');
  writeFileSync(
    path,
    [
      'scheduler:',
      '  enabled: false',
      'pipeline:',
      '  heartbeat_interval_ms: 500',
      ...pipeline.map((line) => `  ${line}`),
      'data_generation:',
      '  customers: 300',
      '  products: 100',
      '  transactions: 1500',
      ...extra,
      '',
    ].join('\n'),
  );
  return path;
}

/*
 * Outcomes state the bounds the tests assert, not the seconds measured: the table in
 * docs/reliability.md must come out the same from run to run.
 */

/** Statements of the pipeline's own sessions on this database (none of the test's). */
const PIPELINE_STATEMENTS = `SELECT count(*) AS v FROM pg_stat_activity
  WHERE datname = current_database() AND application_name LIKE 'pipeline-%' AND state <> 'idle'`;
const RUN_LOCKS = `SELECT count(*) AS v FROM pg_locks l JOIN pg_database d ON d.oid = l.database
  WHERE l.locktype = 'advisory' AND d.datname = current_database()`;

/**
 * An open transaction of the test that holds staging.customers: ingestion's TRUNCATE waits for it.
 * `SHARE` lets readers (monitoring, the daemon's gauges) through; `ACCESS EXCLUSIVE` holds them too.
 */
async function holdStagingLock(
  url: string,
  mode: 'SHARE' | 'ACCESS EXCLUSIVE',
): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'test-lock-holder' });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE staging.customers IN ${mode} MODE`);
  return {
    release: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Waits until a statement of the pipeline waits for a lock; returns its backend's pid. */
function waitingForLock(client: pg.Client): Promise<number> {
  return waitFor(
    'a pipeline statement waiting for the lock',
    async () => {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
           AND application_name LIKE 'pipeline-%' AND wait_event_type = 'Lock'`,
      );
      return rows[0]?.pid ?? null;
    },
    60_000,
  );
}

/** `pipeline <args>` as a child process that the test may signal; resolves with its exit. */
function startCli(env: Record<string, string>, ...args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stderr,
  }));
  return { child, exited };
}

// A regression would hang a process the test waits for: each test fails after 2 minutes instead.
describe('stages that cannot finish', { skip: needsPostgres, timeout: 120_000 }, () => {
  const drops: Array<() => Promise<void>> = [];
  const fresh = async (): Promise<string> => {
    const { url, drop } = await createPostgresDatabase('stopped');
    drops.push(drop);
    return url;
  };
  after(async () => {
    for (const drop of drops) await drop().catch(() => undefined);
  });

  it('a named pipe as an input: the run fails at once naming it, readiness answers, the lock is free', async () => {
    const url = await fresh();
    const data = mkdtempSync(join(tmpdir(), 'stopped-fifo-'));
    // Files dropped in by their owner: data-generation is off, as for a deployment that does so.
    const env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config(['stages: { data-generation: { enabled: false } }']),
      PIPELINE_DATA_DIR: data,
      PIPELINE_API_TOKEN: TOKEN,
    };
    const generated = await cli(env, 'generate', '--date', RUN_DATE);
    assert.equal(generated.code, 0, generated.stderr);
    rmSync(join(data, 'raw', RUN_DATE, 'customers.csv'));
    execFileSync('mkfifo', [join(data, 'raw', RUN_DATE, 'customers.csv')]);

    const daemon: DaemonProcess = await startDaemon(env);
    try {
      const post = () => postRun(daemon.baseUrl, TOKEN, { run_date: RUN_DATE });
      const started = Date.now();
      const response = await post();
      assert.equal(response.status, 202);
      const { run_id: runId } = (await response.json()) as { run_id: string };
      const ready = await fetch(`${daemon.baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(ready.status, 200, 'readiness answers while the run goes on');
      const run = await waitFor(
        'the run to end',
        async () => {
          const body = (await (await fetch(`${daemon.baseUrl}/runs/${runId}`)).json()) as {
            status: string;
            error: string | null;
            stages: Array<{ stage: string; attempts: number; error_kind: string | null }>;
          };
          return body.status === 'running' ? null : body;
        },
        30_000,
      );
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 10, `the run ended ${seconds} s after it started`);
      assert.equal(run.status, 'failed');
      assert.match(run.error ?? '', /customers\.csv: refused, it is a named pipe \(FIFO\)/);
      const ingestion = run.stages.find((s) => s.stage === 'ingestion')!;
      assert.equal(ingestion.attempts, 1, 'not retried');
      assert.equal(ingestion.error_kind, 'permanent');
      assert.equal((await fetch(`${daemon.baseUrl}/health/ready`)).status, 200);
      // The lock is free: the next run starts (and fails the same way).
      const next = await post();
      assert.equal(next.status, 202, await next.text());
      await waitFor('the second run to end', async () =>
        withClient(url, async (c) => (await scalar(c, RUN_LOCKS)) === '0'),
      );
      daemon.child.kill('SIGTERM');
      assert.equal((await daemon.exited).code, 0);
      // A CLI run of the same day ends too, and its process exits.
      const cliStarted = Date.now();
      const viaCli = await cli(env, 'run', '--date', RUN_DATE);
      const cliSeconds = (Date.now() - cliStarted) / 1000;
      assert.equal(viaCli.code, 1, viaCli.stderr);
      assert.ok(cliSeconds < 30, `the CLI exited ${cliSeconds} s after it started`);
      assert.match(viaCli.stderr, /named pipe/);
      recordFault({
        suite: 'stopped stages',
        fault: 'named pipe (mkfifo raw/customers.csv): daemon run, then a CLI run',
        outcome:
          'run failed within 10 s naming the file (permanent, 1 attempt, nothing opened it); /health/ready 200 meanwhile; the next POST /runs 202; a CLI run exited 1 within 30 s',
        lost: 'nothing: staging untouched',
      });
    } finally {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  });

  it('a stage past its timeout in a statement waiting for a lock: cancelled on the server, lock released', async () => {
    const url = await fresh();
    const env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config([
        'retry: { attempts: 1, base_delay_ms: 0, max_delay_ms: 0, jitter: 0 }',
        'stop_grace_ms: 2000',
        'stages: { ingestion: { timeout_ms: 3000 } }',
      ]),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'stopped-timeout-')),
    };
    assert.equal((await cli(env, 'migrate')).code, 0);
    // SHARE: monitoring, which runs after the failed ingestion, reads staging meanwhile.
    const lock = await holdStagingLock(url, 'SHARE');
    try {
      const running = startCli(env, 'run', '--date', RUN_DATE);
      await withClient(url, waitingForLock);
      const waitStarted = Date.now();
      const result = await running.exited;
      const seconds = (Date.now() - waitStarted) / 1000;
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /stage ingestion did not finish within 3000 ms/);
      assert.ok(seconds < 15, `exited ${seconds} s after the statement began to wait`);
      await withClient(url, async (c) => {
        // Still holding the lock, the test sees nothing of the pipeline waiting on it any more.
        assert.equal(await scalar(c, PIPELINE_STATEMENTS), '0');
        assert.equal(await scalar(c, RUN_LOCKS), '0');
        assert.equal(await scalar(c, `SELECT status AS v FROM pipeline.runs`), 'failed');
      });
      recordFault({
        suite: 'stopped stages',
        fault: 'ingestion timed out (3 s) in TRUNCATE waiting for a lock another session held',
        outcome:
          'statement cancelled on the server at the timeout; run failed, the CLI exited 1 within 15 s of the wait beginning; run lock released; no statement of the pipeline left on the server',
        lost: 'nothing: the ingestion transaction rolled back',
      });
    } finally {
      await lock.release();
    }
  });

  it('a stage past its timeout inside a busy statement: cancelled on the server, its locks released, the daemon goes on', async () => {
    const url = await fresh();
    const env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config([
        'retry: { attempts: 1, base_delay_ms: 0, max_delay_ms: 0, jitter: 0 }',
        'stop_grace_ms: 2000',
        'stages: { ingestion: { timeout_ms: 3000 } }',
      ]),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'stopped-busy-')),
      PIPELINE_API_TOKEN: TOKEN,
      // After the four COPYs, inside ingestion's transaction (staging truncated and locked), a
      // statement that computes until it is cancelled.
      PIPELINE_FAULT_POINTS: 'ingestion:loaded=busy',
    };
    const daemon = await startDaemon(env);
    try {
      const response = await postRun(daemon.baseUrl, TOKEN, { run_date: RUN_DATE });
      assert.equal(response.status, 202);
      const { run_id: runId } = (await response.json()) as { run_id: string };
      const busy = `SELECT count(*) AS v FROM pg_stat_activity WHERE datname = current_database()
        AND application_name LIKE 'pipeline-%' AND state = 'active' AND query LIKE '%generate_series%'`;
      await withClient(url, (c) =>
        waitFor('the busy statement to run', async () => (await scalar(c, busy)) === '1', 60_000),
      );
      const busyFrom = Date.now();
      const run = await waitFor(
        'the run to end',
        async () => {
          const body = (await (await fetch(`${daemon.baseUrl}/runs/${runId}`)).json()) as {
            status: string;
            stages: Array<{ stage: string; attempts: number; error: string | null }>;
          };
          return body.status === 'running' ? null : body;
        },
        30_000,
      );
      const seconds = (Date.now() - busyFrom) / 1000;
      assert.ok(seconds < 15, `the run ended ${seconds} s after the busy statement began`);
      assert.equal(run.status, 'failed');
      const ingestion = run.stages.find((s) => s.stage === 'ingestion')!;
      assert.match(ingestion.error ?? '', /stage ingestion did not finish within 3000 ms/);
      await withClient(url, async (c) => {
        // The daemon lives on: what it left would still be there.
        assert.equal(await scalar(c, busy), '0', 'the busy statement was cancelled');
        // The daemon lives on, so a heartbeat may be at work at any instant; a statement the
        // stop left behind would stay. Given a moment, none may be left.
        await waitFor(
          'no statement of the run left',
          async () => (await scalar(c, PIPELINE_STATEMENTS)) === '0',
          5_000,
        ).catch(() => undefined);
        assert.equal(await scalar(c, PIPELINE_STATEMENTS), '0', 'no statement of the run left');
        assert.equal(
          await scalar(
            c,
            `SELECT count(*) AS v FROM pg_locks l JOIN pg_class r ON r.oid = l.relation
             WHERE r.relnamespace = 'staging'::regnamespace`,
          ),
          '0',
          'no lock on staging left',
        );
        assert.equal(await scalar(c, RUN_LOCKS), '0', 'the run lock is free');
      });
      assert.equal(daemon.child.exitCode, null);
      recordFault({
        suite: 'stopped stages',
        fault:
          'ingestion timed out (3 s) inside a busy statement of its transaction (PIPELINE_FAULT_POINTS busy)',
        outcome:
          'statement cancelled on the server at the timeout; run failed within 15 s of the statement beginning; with the daemon still up: no statement of the run left, no lock on staging, run lock free',
        lost: 'nothing: the ingestion transaction rolled back',
      });
    } finally {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  });

  it('SIGTERM to the daemon in a long statement (grace 2 s): cancelled on the server, the process exits', async () => {
    const url = await fresh();
    const env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config([], ['http:', '  shutdown_grace_ms: 2000']),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'stopped-sigterm-')),
      PIPELINE_API_TOKEN: TOKEN,
    };
    assert.equal((await cli(env, 'migrate')).code, 0);
    // ACCESS EXCLUSIVE: the daemon's gauge refresh waits too, and must not keep it alive either.
    const lock = await holdStagingLock(url, 'ACCESS EXCLUSIVE');
    const daemon = await startDaemon(env);
    try {
      const response = await postRun(daemon.baseUrl, TOKEN, { run_date: RUN_DATE });
      assert.equal(response.status, 202);
      const { run_id: runId } = (await response.json()) as { run_id: string };
      await withClient(url, waitingForLock);
      const signalled = Date.now();
      daemon.child.kill('SIGTERM');
      const { code } = await daemon.exited;
      const seconds = (Date.now() - signalled) / 1000;
      assert.equal(code, 0, daemon.output());
      assert.ok(seconds < 15, `exited ${seconds} s after SIGTERM`);
      await withClient(url, async (c) => {
        assert.equal(await scalar(c, PIPELINE_STATEMENTS), '0');
        assert.equal(await scalar(c, RUN_LOCKS), '0');
        assert.equal(
          await scalar(c, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [runId]),
          'interrupted',
        );
      });
      recordFault({
        suite: 'stopped stages',
        fault: 'SIGTERM to the daemon while ingestion waited for a lock (shutdown_grace_ms 2000)',
        outcome:
          'after the grace period the statement was cancelled on the server; run recorded interrupted; the process exited 0 within 15 s of SIGTERM',
        lost: 'nothing: the ingestion transaction rolled back',
      });
    } finally {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
      await lock.release();
    }
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`${signal} to a CLI run in a long statement: its statement does not outlive the process`, async () => {
      const url = await fresh();
      const env = {
        DATABASE_URL: url,
        PIPELINE_CONFIG: config(),
        PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), `stopped-${signal}-`)),
      };
      assert.equal((await cli(env, 'migrate')).code, 0);
      const lock = await holdStagingLock(url, 'ACCESS EXCLUSIVE');
      try {
        const running = startCli(env, 'run', '--date', RUN_DATE);
        const pid = await withClient(url, waitingForLock);
        const signalled = Date.now();
        running.child.kill(signal);
        const result = await running.exited;
        const exitedAfter = (Date.now() - signalled) / 1000;
        // A killed process runs no code: the server notices its closed socket while the statement
        // waits (client_connection_check_interval), not when it would send the result.
        await withClient(url, (c) =>
          waitFor(
            'the statement to end on the server',
            async () =>
              (await scalar(c, `SELECT count(*) AS v FROM pg_stat_activity WHERE pid = $1`, [pid])) === '0',
            10_000,
          ),
        );
        await withClient(url, async (c) => {
          assert.equal(await scalar(c, PIPELINE_STATEMENTS), '0');
          assert.equal(await scalar(c, RUN_LOCKS), '0');
        });
        let outcome: string;
        if (signal === 'SIGINT') {
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.stderr, /SIGINT: stopping the run/);
          const status = await withClient(url, (c) => scalar(c, `SELECT status AS v FROM pipeline.runs`));
          assert.equal(status, 'interrupted');
          assert.ok(exitedAfter < 10, `exited ${exitedAfter} s after the signal`);
          outcome =
            'run stopped at once: statement cancelled on the server, run recorded interrupted, exit 1 within 10 s';
        } else {
          assert.equal(result.signal, 'SIGKILL');
          outcome =
            'the server ended the statement within 10 s of the kill (client_connection_check_interval: 2 s), and the run lock with its connection';
        }
        recordFault({
          suite: 'stopped stages',
          fault: `${signal} to a CLI run while ingestion waited for a lock`,
          outcome,
          lost: 'nothing: the ingestion transaction rolled back',
        });
      } finally {
        await lock.release();
      }
    });
  }
});
