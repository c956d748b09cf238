import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';

const CLI = fileURLToPath(new URL('../../apps/daemon/src/cli.js', import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // A cwd without config/config.yaml: only the variables below configure the process.
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// Every test stands alone (each spawns a fresh process), so they run side by side.
describe('command line', { skip: needsPostgres, concurrency: true }, () => {
  let env: Record<string, string>;
  let url: string;
  let drop: () => Promise<void>;

  before(async () => {
    const created = await createPostgresDatabase('cli');
    drop = created.drop;
    url = created.url;
    env = { DATABASE_URL: created.url, PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'cli-data-')) };
  });
  after(async () => drop?.());

  it('lists the registered stages', async () => {
    const { code, stdout, stderr } = await cli(['stages'], env);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\bcleanup\b/);
    assert.match(stdout, /\bmaintenance\b/);
  });

  it('runs one stage, exits 0, and shows the run in the history', async () => {
    const run = await cli(['run', '--only', 'cleanup', '--date', '2025-08-01'], env);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const runs = await cli(['runs', '--json'], env);
    assert.equal(runs.code, 0, runs.stderr);
    const history = JSON.parse(runs.stdout) as {
      runs: { id: string; status: string; trigger: string; run_date: string }[];
      total: number;
      next_before: string | null;
    };
    assert.equal(history.total, 1);
    assert.equal(history.next_before, null);
    const [listed] = history.runs;
    assert.deepEqual(
      { status: listed!.status, trigger: listed!.trigger, run_date: listed!.run_date },
      { status: 'succeeded', trigger: 'cli', run_date: '2025-08-01' },
    );
    const one = await cli(['runs', listed!.id, '--json'], env);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as { requested_stages: string[] }).requested_stages, [
      'cleanup',
    ]);
  });

  it("loads the full data set on the first date and the next date's increment after it, as configured by default", async () => {
    // A database of its own: this test's runs would change what the others see in the history.
    const own = await createPostgresDatabase('cli_auto');
    try {
      const dataDir = mkdtempSync(join(tmpdir(), 'cli-auto-'));
      const ownEnv = { DATABASE_URL: own.url, PIPELINE_DATA_DIR: dataDir };
      for (const date of ['2025-01-01', '2025-01-02']) {
        const run = await cli(['run', '--date', date], ownEnv);
        assert.equal(run.code, 0, `${date}: ${run.stdout}\n${run.stderr}`);
      }
      const modeOf = (date: string) =>
        (
          JSON.parse(readFileSync(join(dataDir, 'raw', date, 'generation_metadata.json'), 'utf8')) as {
            mode: string;
          }
        ).mode;
      assert.deepEqual([modeOf('2025-01-01'), modeOf('2025-01-02')], ['full', 'daily']);
      const client = new pg.Client({ connectionString: own.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT count(DISTINCT business_date)::int AS dates, max(transaction_date)::text AS newest
           FROM production.transactions`,
        );
        assert.deepEqual(rows, [{ dates: 2, newest: '2025-01-02' }]);
      } finally {
        await client.end();
      }
    } finally {
      await own.drop();
    }
  });

  it('exits 2 naming an unknown stage', async () => {
    const { code, stderr } = await cli(['run', '--only', 'nope'], env);
    assert.equal(code, 2);
    assert.match(stderr, /unknown stage: nope/);
  });

  it('exits 2 with one line naming the key of an invalid configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-config-'));
    writeFileSync(join(dir, 'config.yaml'), 'http:\n  port: "x"\n');
    const { code, stdout, stderr } = await cli(['stages'], {
      ...env,
      PIPELINE_CONFIG: join(dir, 'config.yaml'),
    });
    assert.equal(code, 2);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^pipeline: Invalid configuration: http\.port: /);
  });

  it('refuses a backfill whose start is after its end, with exit code 2', async () => {
    const { code, stderr } = await cli(['backfill', '--from', '2024-01-02', '--to', '2024-01-01'], env);
    assert.equal(code, 2);
    assert.match(stderr, /--from 2024-01-02 is after --to 2024-01-01/);
  });

  it('lists the dates a backfill would run without running them', async () => {
    const { code, stdout, stderr } = await cli(
      ['backfill', '--from', '2024-01-01', '--to', '2024-01-03', '--dry-run'],
      env,
    );
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]),
      ['2024-01-01', '2024-01-02', '2024-01-03'],
    );
    for (const line of lines) assert.match(line, /^\d{4}-\d{2}-\d{2} would run \(no succeeded run\):/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ exists: boolean }>(
        `SELECT to_regclass('pipeline.runs') IS NOT NULL AS exists`,
      );
      if (rows[0]!.exists) {
        const backfills = await client.query(`SELECT 1 FROM pipeline.runs WHERE trigger = 'backfill'`);
        assert.equal(backfills.rowCount, 0);
      }
    } finally {
      await client.end();
    }
  });

  it('runs a date whose files changed after it succeeded again in a real backfill, which replaces the day', async () => {
    const own = await createPostgresDatabase();
    const client = new pg.Client({ connectionString: own.url });
    try {
      const date = '2025-02-01';
      const dir = mkdtempSync(join(tmpdir(), 'cli-backfill-'));
      const size = `data_generation:\n  customers: 150\n  products: 70\n  transactions: 700\n  start_date: '2024-10-01'\n`;
      writeFileSync(join(dir, 'generate.yaml'), size);
      // The corrected files are the user's: generation off, or the backfill would write them over.
      writeFileSync(
        join(dir, 'own-files.yaml'),
        `${size}pipeline:\n  stages:\n    data-generation: { enabled: false }\n`,
      );
      const data = { ...env, DATABASE_URL: own.url, PIPELINE_DATA_DIR: join(dir, 'data') };
      const ran = await cli(['run', '--date', date], {
        ...data,
        PIPELINE_CONFIG: join(dir, 'generate.yaml'),
      });
      assert.equal(ran.code, 0, ran.stderr);

      // One transaction taken out of the date's files, with its lines.
      const raw = join(dir, 'data', 'raw', date);
      const [header, first, ...rest] = readFileSync(join(raw, 'transactions.csv'), 'utf8').split('\n');
      const gone = first!.split(',')[0]!;
      writeFileSync(join(raw, 'transactions.csv'), [header, ...rest].join('\n'));
      const items = readFileSync(join(raw, 'transaction_items.csv'), 'utf8').split('\n');
      const goneItems = items.filter((line) => line.split(',')[1] === gone).length;
      assert.ok(goneItems > 0);
      writeFileSync(
        join(raw, 'transaction_items.csv'),
        items.filter((line) => line.split(',')[1] !== gone).join('\n'),
      );

      const backfill = await cli(['backfill', '--from', date, '--to', date], {
        ...data,
        PIPELINE_CONFIG: join(dir, 'own-files.yaml'),
      });
      assert.equal(backfill.code, 0, `${backfill.stdout}\n${backfill.stderr}`);
      const runId =
        /^2025-02-01 succeeded \(run (\S+); its input changed since it succeeded \(ingestion\)\)$/.exec(
          backfill.stdout.trim(),
        )?.[1];
      assert.ok(runId, backfill.stdout);

      await client.connect();
      const { rows } = await client.query(
        `SELECT (SELECT count(*) FROM production.transactions WHERE transaction_id = $1)::int AS transactions,
                (SELECT count(*) FROM warehouse.fact_sales WHERE transaction_id = $1)::int AS facts,
                (SELECT count(*) FROM production.withdrawn_facts WHERE run_id = $2)::int AS withdrawn`,
        [gone, runId],
      );
      assert.deepEqual(rows, [{ transactions: 0, facts: 0, withdrawn: 1 + goneItems }]);
    } finally {
      await client.end().catch(() => undefined);
      await own.drop();
    }
  });

  it('skips a date that succeeded with the same input, and runs it again once its files changed', async () => {
    // A database of its own: this test's run takes the run lock, which the others would meet.
    const own = await createPostgresDatabase();
    try {
      const ownEnv = {
        ...env,
        DATABASE_URL: own.url,
        PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'cli-fingerprint-')),
      };
      const ran = await cli(['run', '--date', '2025-02-01', '--only', 'data-generation,ingestion'], ownEnv);
      assert.equal(ran.code, 0, ran.stderr);
      const plan = async () => {
        const { code, stdout, stderr } = await cli(
          ['backfill', '--from', '2025-02-01', '--to', '2025-02-01', '--dry-run'],
          ownEnv,
        );
        assert.equal(code, 0, stderr);
        return stdout.trim();
      };
      assert.equal(await plan(), '2025-02-01 skip (already succeeded with this input; --redo to run again)');
      const customers = join(ownEnv.PIPELINE_DATA_DIR, 'raw', '2025-02-01', 'customers.csv');
      writeFileSync(customers, readFileSync(customers, 'utf8').replace(/\n$/, ''));
      assert.match(
        await plan(),
        /^2025-02-01 would run \(its input changed since it succeeded \(ingestion\)\):/,
      );
      // A run of a version that kept no fingerprint: it runs again, and the plan says why.
      const client = new pg.Client({ connectionString: own.url });
      await client.connect();
      await client
        .query(`UPDATE pipeline.stage_runs SET input_fingerprint = NULL`)
        .finally(() => client.end());
      assert.match(
        await plan(),
        /^2025-02-01 would run \(its succeeded run recorded no input fingerprint \(ingestion\)\):/,
      );
    } finally {
      await own.drop();
    }
  });
});
