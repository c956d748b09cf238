/**
 * Cancel and retry as an operator does them, across replicas: daemon A runs the day and pauses
 * inside a stage's transaction (a fault point); the cancel goes to replica B (or the CLI), another
 * process on the same database. A learns of it through the run store within a heartbeat, rolls the
 * transaction back and ends the run `cancelled`, with nothing half-written: the business data is
 * what it was before the stage began (content checksums). Retried through B, the day ends with the
 * data of an uninterrupted run. Likewise a run failed by an injected fault and retried.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';
import {
  RUN_DATE,
  cli,
  contentChecksums,
  postRun,
  scalar,
  smallConfig,
  waitInsideCheckpoint,
  withClient,
} from './harness.js';

const TOKEN = 'cancel-retry-token';
const HEARTBEAT_MS = 500;
const RUN_LOCKS = `SELECT count(*) AS v FROM pg_locks l JOIN pg_database d ON d.oid = l.database
  WHERE l.locktype = 'advisory' AND d.datname = current_database()`;

interface RunBody {
  status: string;
  error: string | null;
  resumed_from: string | null;
  failed_stages: string[];
  stages: Array<{ stage: string; status: string; error: string | null }>;
}

const post = (baseUrl: string, path: string): Promise<Response> =>
  fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });

async function runEnded(baseUrl: string, runId: string, timeoutMs = 120_000): Promise<RunBody> {
  return waitFor(
    `run ${runId} to end`,
    async () => {
      const body = (await (await fetch(`${baseUrl}/runs/${runId}`)).json()) as RunBody;
      return body.status === 'running' ? null : body;
    },
    timeoutMs,
  );
}

const MAIN_STAGES = [
  'data-generation',
  'ingestion',
  'quality-checks',
  'production-etl',
  'warehouse',
  'analytics',
];

/** Each main stage, paused inside the transaction that holds its writes. */
const CASES = [
  { stage: 'ingestion', point: 'ingestion:loaded', via: 'api' },
  { stage: 'quality-checks', point: 'quality-checks:quarantined', via: 'cli' },
  // The quality gate runs beside production-etl in a transaction of its own: it has ended first.
  { stage: 'production-etl', point: 'production-etl:loaded', via: 'api', gate: 'quality-checks' },
  { stage: 'warehouse', point: 'warehouse:loaded', via: 'api' },
  { stage: 'analytics', point: 'analytics:exported', via: 'api' },
] as const;

describe('cancel and retry across replicas', { skip: needsPostgres, timeout: 600_000 }, () => {
  const config = smallConfig();
  const drops: Array<() => Promise<void>> = [];
  const daemons: DaemonProcess[] = [];
  let baseline: Record<string, string>;

  const fresh = async () => {
    const { url, drop } = await createPostgresDatabase('cancel');
    drops.push(drop);
    return {
      DATABASE_URL: url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'cancel-')),
      PIPELINE_API_TOKEN: TOKEN,
    };
  };
  const daemon = async (env: Record<string, string>): Promise<DaemonProcess> => {
    const started = await startDaemon(env);
    daemons.push(started);
    return started;
  };

  /**
   * The business data of a day whose run stopped right before `stage`: the stages before it alone
   * (`run --only`), on a database of its own. (It cannot be read while the stage is paused: the
   * stage's transaction holds locks on the tables it writes.)
   */
  const stoppedBefore = async (stage: string): Promise<Record<string, string>> => {
    const env = await fresh();
    const only = MAIN_STAGES.slice(0, MAIN_STAGES.indexOf(stage)).join(',');
    const partial = await cli(env, 'run', '--date', RUN_DATE, '--only', only);
    assert.equal(partial.code, 0, partial.stderr);
    return withClient(env.DATABASE_URL, (c) => contentChecksums(c));
  };

  before(async () => {
    const env = await fresh();
    const clean = await cli(env, 'run', '--date', RUN_DATE);
    assert.equal(clean.code, 0, clean.stderr);
    baseline = await withClient(env.DATABASE_URL, (c) => contentChecksums(c));
  });

  after(async () => {
    for (const d of daemons) {
      d.child.kill('SIGKILL');
      await d.exited;
    }
    for (const drop of drops) await drop().catch(() => undefined);
  });

  for (const { stage, point, via, ...rest } of CASES) {
    it(`cancelled from another ${via === 'api' ? 'replica' : 'process (pipeline cancel)'} inside ${stage}'s transaction: ends cancelled within a heartbeat, nothing half-written; a retry finishes the day as an uninterrupted run`, async () => {
      const env = await fresh();
      assert.equal((await cli(env, 'migrate')).code, 0);
      const holder = await daemon({ ...env, PIPELINE_FAULT_POINTS: `${point}=pause` });
      const other = await daemon(env);

      const response = await postRun(holder.baseUrl, TOKEN, { run_date: RUN_DATE });
      assert.equal(response.status, 202);
      const { run_id: runId } = (await response.json()) as { run_id: string };
      const gate = 'gate' in rest ? rest.gate : undefined;
      await withClient(env.DATABASE_URL, (c) => waitInsideCheckpoint(c, stage, runId, gate));

      if (via === 'api') {
        const cancel = await post(other.baseUrl, `/runs/${runId}/cancel`);
        assert.equal(cancel.status, 202, await cancel.text());
      } else {
        const cancel = await cli(env, 'cancel', runId);
        assert.equal(cancel.code, 0, cancel.stderr);
        assert.match(cancel.stdout, /cancel requested for run/);
      }
      // Both instants from the database's clock: when the request was recorded, when the attempt ended.
      const stopped = await withClient(env.DATABASE_URL, (c) =>
        waitFor(`${stage}'s attempt to stop`, async () => {
          const { rows } = await c.query<{ ms: number }>(
            `SELECT extract(epoch FROM a.finished_at - r.cancel_requested_at) * 1000 AS ms
             FROM pipeline.stage_attempts a JOIN pipeline.runs r ON r.id = a.run_id
             WHERE a.run_id = $1 AND a.stage = $2 AND a.outcome = 'cancelled'`,
            [runId, stage],
          );
          return rows[0] ? Number(rows[0].ms) : null;
        }),
      );

      const run = await runEnded(other.baseUrl, runId);
      assert.equal(run.status, 'cancelled', JSON.stringify(run));
      assert.match(
        run.error ?? '',
        new RegExp(
          `^run cancelled by an operator \\(requested by (api|cli) on .+\\); stopped in ${stage}(,|$)`,
        ),
      );
      const statusOf = Object.fromEntries(run.stages.map((s) => [s.stage, s.status]));
      assert.equal(statusOf[stage], 'cancelled', 'the stage the cancel stopped is cancelled, not failed');
      assert.deepEqual(run.failed_stages, [], 'and the run has no failed stage');
      assert.equal(statusOf.monitoring, 'succeeded', 'monitoring still reports on a cancelled run');
      const at = run.stages.findIndex((s) => s.stage === stage);
      // A stage started alongside its gate (production-etl beside quality-checks) is stopped with it.
      for (const later of run.stages.slice(at + 1).filter((s) => s.stage !== 'monitoring'))
        assert.ok(
          later.status === 'skipped' ||
            (later.status === 'cancelled' && /run cancelled/.test(later.error ?? '')),
          `${later.stage} is skipped or stopped by the cancel: ${later.status} ${later.error}`,
        );
      await withClient(env.DATABASE_URL, async (c) => {
        assert.equal(await scalar(c, RUN_LOCKS), '0', 'the run lock is released');
        assert.deepEqual(
          await contentChecksums(c),
          await stoppedBefore(stage),
          'the data is what it is when the run stops right before the stage: nothing it wrote was kept',
        );
      });
      assert.ok(stopped < HEARTBEAT_MS + 1_500, `the stage stopped ${stopped} ms after the request`);
      assert.equal(
        (await post(other.baseUrl, `/runs/${runId}/cancel`)).status,
        409,
        'it is no longer running',
      );

      const dry = await post(other.baseUrl, `/runs/${runId}/retry?dry_run=true`);
      assert.equal(dry.status, 200);
      const plan = (await dry.json()) as { from: string; stages: string[] };
      assert.equal(plan.from, stage);
      assert.equal(plan.stages[0], stage);
      const retry = await post(other.baseUrl, `/runs/${runId}/retry`);
      const accepted = await retry.text();
      assert.equal(retry.status, 202, accepted);
      const { run_id: retryId } = JSON.parse(accepted) as { run_id: string };
      const retried = await runEnded(other.baseUrl, retryId);
      assert.equal(retried.status, 'succeeded', JSON.stringify(retried));
      assert.equal(retried.resumed_from, runId);
      assert.deepEqual(await withClient(env.DATABASE_URL, (c) => contentChecksums(c)), baseline);
      assert.equal((await post(other.baseUrl, `/runs/${retryId}/retry`)).status, 422, 'a succeeded run');
    });
  }

  it('a run failed by a fault injected at warehouse:loaded, retried, finishes the day as an uninterrupted run', async () => {
    const env = await fresh();
    // One attempt per stage: the injected (retryable) fault fails the run instead of the attempt.
    const oneAttempt = join(mkdtempSync(join(tmpdir(), 'retry-config-')), 'config.yaml');
    writeFileSync(
      oneAttempt,
      readFileSync(config, 'utf8').replace(
        / {2}retry: .*/,
        '  retry: { attempts: 1, base_delay_ms: 0, max_delay_ms: 0, jitter: 0 }',
      ),
    );
    const d = await daemon({
      ...env,
      PIPELINE_CONFIG: oneAttempt,
      PIPELINE_FAULT_POINTS: 'warehouse:loaded=fail',
    });
    const response = await postRun(d.baseUrl, TOKEN, { run_date: RUN_DATE });
    const { run_id: runId } = (await response.json()) as { run_id: string };
    const failed = await runEnded(d.baseUrl, runId);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error, 'warehouse: injected fault at warehouse:loaded');
    // The retry goes to a replica without the fault, as after the cause of a failure is fixed.
    const healthy = await daemon({ ...env, PIPELINE_CONFIG: oneAttempt });
    const retry = await post(healthy.baseUrl, `/runs/${runId}/retry`);
    const accepted = await retry.text();
    assert.equal(retry.status, 202, accepted);
    const { run_id: retryId, stages } = JSON.parse(accepted) as { run_id: string; stages: string[] };
    assert.equal(stages[0], 'warehouse');
    const retried = await runEnded(healthy.baseUrl, retryId);
    assert.equal(retried.status, 'succeeded', JSON.stringify(retried));
    assert.deepEqual(await withClient(env.DATABASE_URL, (c) => contentChecksums(c)), baseline);
  });
});
