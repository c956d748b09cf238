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
    runId = (JSON.parse(runs.stdout) as { id: string }[])[0]!.id;
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
