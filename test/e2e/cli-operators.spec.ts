import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { cli } from '../reliability/harness.js';

describe('command line: logs and cancel', { skip: needsPostgres }, () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let runId: string;

  before(async () => {
    const created = await createPostgresDatabase('cli_ops');
    drop = created.drop;
    env = { DATABASE_URL: created.url, PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'cli-ops-')) };
    const run = await cli(env, 'run', '--only', 'cleanup', '--date', '2025-08-01');
    assert.equal(run.code, 0, run.stderr);
    const runs = await cli({ ...env, LOG_LEVEL: 'error' }, 'runs', '--json');
    runId = (JSON.parse(runs.stdout) as { runs: { id: string }[] }).runs[0]!.id;
  });
  after(async () => drop?.());

  it("prints a run's own log lines in order, of one stage on request", async () => {
    const all = await cli({ ...env, LOG_LEVEL: 'error' }, 'logs', runId, '--json');
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; message: string; stage: string | null });
    assert.equal(lines[0]!.message, 'run started');
    assert.equal(lines.at(-1)!.message, 'run finished');
    assert.deepEqual(
      lines.map((l) => l.seq),
      lines.map((_, i) => i + 1),
    );
    const stage = await cli({ ...env, LOG_LEVEL: 'error' }, 'logs', runId, '--stage', 'cleanup');
    assert.equal(stage.code, 0, stage.stderr);
    assert.match(stage.stdout, /info {2}\[cleanup #1\] retention applied/);
    assert.doesNotMatch(stage.stdout, /run started/);
  });

  it('prints every line of a run that kept more lines than one page holds', async () => {
    const extra = 2_500;
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO pipeline.run_logs (run_id, seq, at, level, message)
         SELECT $1, 100000 + n, now(), 'info', 'extra line ' || n FROM generate_series(1, $2) n`,
        [runId, extra],
      );
    } finally {
      await client.end();
    }
    const all = await cli({ ...env, LOG_LEVEL: 'error' }, 'logs', runId, '--json');
    assert.equal(all.code, 0, all.stderr);
    const messages = all.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { message: string }).message);
    assert.equal(messages.filter((m) => m.startsWith('extra line ')).length, extra);
    assert.equal(messages[0], 'run started');
    assert.equal(messages.at(-1), `extra line ${extra}`);
  });

  it('lists the run history filtered and paged as GET /runs does, newest first', async () => {
    const quiet = { ...env, LOG_LEVEL: 'error' };
    // A second succeeded run and a failed one (no input for its date: ingestion fails at once).
    assert.equal((await cli(env, 'run', '--only', 'cleanup', '--date', '2025-08-02')).code, 0);
    const failedRun = await cli(env, 'run', '--only', 'ingestion', '--date', '2025-08-03');
    assert.equal(failedRun.code, 1, failedRun.stderr);
    type Page = {
      runs: { id: string; run_date: string; status: string; failed_stages: string[] }[];
      total: number;
      next_before: string | null;
    };
    const page = async (...args: string[]): Promise<Page> => {
      const out = await cli(quiet, 'runs', '--json', ...args);
      assert.equal(out.code, 0, out.stderr);
      return JSON.parse(out.stdout) as Page;
    };
    const dates = (p: Page) => p.runs.map((r) => r.run_date);

    assert.deepEqual(dates(await page()), ['2025-08-03', '2025-08-02', '2025-08-01']);
    const failed = await page('--status', 'failed');
    assert.deepEqual(
      failed.runs.map((r) => [r.run_date, r.failed_stages]),
      [['2025-08-03', ['ingestion']]],
    );
    assert.equal(failed.total, 1);
    assert.deepEqual(dates(await page('--failed-stage', 'ingestion', '--trigger', 'cli')), ['2025-08-03']);
    assert.equal((await page('--failed-stage', 'cleanup')).total, 0);
    assert.equal((await page('--trigger', 'schedule')).total, 0);
    const range = await page('--from', '2025-08-01', '--to', '2025-08-02', '--status', 'succeeded');
    assert.deepEqual([dates(range), range.total], [['2025-08-02', '2025-08-01'], 2]);

    // A page at a time by the cursor each page gives: every run once, in order, then the end.
    const walked: string[] = [];
    let before: string | null = null;
    do {
      const p: Page = await page('--limit', '1', ...(before ? ['--before', before] : []));
      assert.equal(p.total, 3);
      walked.push(...dates(p));
      before = p.next_before;
    } while (before);
    assert.deepEqual(walked, ['2025-08-03', '2025-08-02', '2025-08-01']);

    const text = await cli(quiet, 'runs', '--limit', '2');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^2 of 3 runs; older: the same command with --before \d+_[0-9a-f-]{36}$/m);
  });

  it('refuses a bad filter, limit or attempt with exit 2 naming the option, before opening the database', async () => {
    // An unreachable database: each of these must be refused before anything connects.
    const offline = { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'error' };
    const cases: [string[], RegExp][] = [
      [
        ['runs', '--limit', 'abc'],
        /'--limit <n>' argument 'abc' is invalid\. expected a whole number from 1 to 500/,
      ],
      [['runs', '--limit', '1.5'], /'--limit <n>' argument '1\.5' is invalid/],
      [['runs', '--limit', '2x'], /'--limit <n>' argument '2x' is invalid/],
      [['runs', '--limit', '0'], /'--limit <n>' argument '0' is invalid/],
      [['runs', '--limit', '-3'], /'--limit <n>' argument '-3' is invalid/],
      [['runs', '--limit', '501'], /'--limit <n>' argument '501' is invalid/],
      [['runs', '--status', 'done'], /^pipeline: --status: .*"failed"/m],
      [['runs', '--trigger', 'cron'], /^pipeline: --trigger: /m],
      [['runs', '--from', '2025-13-01'], /^pipeline: --from: expected a date YYYY-MM-DD$/m],
      [['runs', '--from', '2025-08-03', '--to', '2025-08-01'], /^pipeline: --from is after --to$/m],
      [['runs', '--failed-stage', 'DROP TABLE'], /^pipeline: --failed-stage: a stage name is lower-case/m],
      [['runs', '--before', 'junk'], /^pipeline: --before: expected a cursor as given in next_before$/m],
      [['runs', runId, '--status', 'failed'], /^pipeline: give a run id or filters, not both$/m],
      [['logs', runId, '--attempt', '1.5'], /'--attempt <n>' argument '1\.5' is invalid/],
      [['logs', runId, '--attempt', '0'], /'--attempt <n>' argument '0' is invalid/],
    ];
    for (const [args, message] of cases) {
      const refused = await cli(offline, ...args);
      assert.equal(refused.code, 2, `${args.join(' ')}: ${refused.stderr}`);
      assert.match(refused.stderr, message, args.join(' '));
      assert.equal(refused.stdout, '', args.join(' '));
    }
  });

  it("neither runs, logs nor cancel migrates a database: on one without the kernel's tables they say to migrate", async () => {
    const bare = await createPostgresDatabase('cli_bare');
    try {
      const bareEnv = { ...env, DATABASE_URL: bare.url };
      for (const args of [['runs'], ['runs', runId], ['logs', runId], ['cancel', runId]]) {
        const refused = await cli(bareEnv, ...args);
        assert.equal(refused.code, 2, `${args[0]}: ${refused.stderr}`);
        assert.match(refused.stderr, /lacks the kernel's migrations .+: run `pipeline migrate` first/);
      }
      const client = new pg.Client({ connectionString: bare.url });
      await client.connect();
      try {
        const { rows } = await client.query(`SELECT to_regclass('pipeline.migrations') AS history`);
        assert.deepEqual(rows, [{ history: null }], 'nothing was migrated');
      } finally {
        await client.end();
      }
    } finally {
      await bare.drop();
    }
  });

  it('refuses to cancel a run that has ended (exit 1) or is unknown (exit 2)', async () => {
    const ended = await cli(env, 'cancel', runId);
    assert.equal(ended.code, 1);
    assert.match(ended.stderr, /is succeeded, not running/);
    const unknown = await cli(env, 'cancel', '7d9f0f3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no run 7d9f0f3e/);
    assert.equal((await cli(env, 'logs', 'not-a-uuid')).code, 2);
  });
});
