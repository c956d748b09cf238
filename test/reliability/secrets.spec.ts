/**
 * Secrets stay secret: the database password (in DATABASE_URL) and the API token appear in no
 * log line, no file under the data folder, no row of the run history and no HTTP answer, after a
 * successful run, a failing run, and a process that cannot reach its database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ADMIN_URL, needsPostgres } from '../support/databases.js';
import { startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';
import { RUN_DATE, cli, scalar, smallConfig, withClient } from './harness.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('secrets never leak', { skip: needsPostgres }, () => {
  const suffix = randomBytes(5).toString('hex');
  const role = `secret_role_${suffix}`;
  const database = `secret_db_${suffix}`;
  const password = `Pw-${randomBytes(12).toString('hex')}`;
  const token = randomBytes(24).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'secrets-'));
  let url: string;
  let daemon: DaemonProcess;
  let admin: pg.Client;
  const extraOutput: string[] = [];

  before(async () => {
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${role}`);
    const u = new URL(ADMIN_URL);
    u.username = role;
    u.password = password;
    u.pathname = `/${database}`;
    url = u.toString();
    daemon = await startDaemon({
      DATABASE_URL: url,
      PIPELINE_CONFIG: smallConfig(),
      PIPELINE_DATA_DIR: dataDir,
      PIPELINE_API_TOKEN: token,
    });
  });

  after(async () => {
    daemon?.child.kill('SIGKILL');
    await daemon?.exited;
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await admin.end();
  });

  const post = async (body: object): Promise<string> => {
    const response = await fetch(`${daemon.baseUrl}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    extraOutput.push(text);
    assert.equal(response.status, 202, text);
    return (JSON.parse(text) as { run_id: string }).run_id;
  };

  const finished = (runId: string): Promise<string> =>
    withClient(url, (c) =>
      waitFor(
        `run ${runId} to end`,
        async () => {
          const s = await scalar(c, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [runId]);
          return s === 'running' ? null : s;
        },
        90_000,
      ),
    );

  it('a full run, a failing run and an unreachable database leave neither the password nor the token anywhere', async () => {
    assert.equal(await finished(await post({ run_date: RUN_DATE })), 'succeeded');

    // A failing run: a broken CSV, its error recorded in the run history.
    writeFileSync(
      join(dataDir, 'raw', RUN_DATE, 'customers.csv'),
      'customer_id,first_name\nC1,"never closed\n',
    );
    const failing = await post({ from: 'ingestion', run_date: RUN_DATE });
    assert.equal(await finished(failing), 'failed');
    const recorded = await withClient(url, (c) =>
      scalar(c, `SELECT error AS v FROM pipeline.stage_runs WHERE run_id = $1 AND stage = 'ingestion'`, [
        failing,
      ]),
    );
    assert.match(recorded, /customers\.csv/);

    // A process that cannot connect: the refused URL (with the password) in its error.
    const refusedUrl = new URL(url);
    refusedUrl.port = '1';
    const unreachable = await cli(
      {
        DATABASE_URL: refusedUrl.toString(),
        PIPELINE_CONFIG: smallConfig(),
        PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'secrets-x-')),
      },
      'run',
      '--date',
      RUN_DATE,
    );
    assert.notEqual(unreachable.code, 0);
    extraOutput.push(unreachable.stdout, unreachable.stderr);

    for (const path of ['/metrics', '/runs', `/runs/${failing}`, '/health/ready', '/stages'])
      extraOutput.push(await (await fetch(`${daemon.baseUrl}${path}`)).text());

    const rows = await withClient(url, async (c) => {
      const texts: string[] = [];
      for (const table of [
        'pipeline.runs',
        'pipeline.stage_runs',
        'pipeline.stage_attempts',
        'pipeline.run_skips',
        'pipeline.quarantine',
      ]) {
        const { rows: r } = await c.query<{ t: string }>(`SELECT t::text AS t FROM ${table} t`);
        texts.push(...r.map((x) => x.t));
      }
      return texts;
    });
    const files = filesUnder(dataDir);
    assert.ok(files.length > 10, `the data folder holds the run's files (${files.length})`);

    const places: Array<[string, string]> = [
      ['daemon log (stdout+stderr)', daemon.output()],
      ...extraOutput.map((t, i): [string, string] => [`HTTP answer / CLI output #${i}`, t]),
      ...rows.map((t, i): [string, string] => [`run history row #${i}`, t]),
      ...files.map((f): [string, string] => [f, readFileSync(f).toString('latin1')]),
    ];
    assert.ok(daemon.output().includes('run finished'), 'the log has the runs');
    for (const [where, text] of places) {
      assert.ok(!text.includes(password), `the password appears in ${where}`);
      assert.ok(!text.includes(token), `the token appears in ${where}`);
    }
    recordFault({
      suite: 'secrets',
      fault:
        'password in DATABASE_URL and API token; a full run, a failing run (bad CSV), an unreachable database',
      outcome:
        'neither secret in the logs, the data files, the run history rows or the HTTP answers (incl. /metrics)',
      lost: 'nothing',
    });
  });
  it("the data folder's path and an input's bytes never reach the run history and logs GET /runs serves", async () => {
    const paths = [dataDir, realpathSync(dataDir)];
    const bodies = async (runIds: readonly string[]): Promise<Array<[string, string]>> => {
      const answers: Array<[string, string]> = [];
      for (const path of ['/runs', ...runIds.flatMap((id) => [`/runs/${id}`, `/runs/${id}/logs`])])
        answers.push([path, await (await fetch(`${daemon.baseUrl}${path}`)).text()]);
      return answers;
    };
    const stageError = (runId: string): Promise<string> =>
      withClient(url, (c) =>
        scalar(c, `SELECT error AS v FROM pipeline.stage_runs WHERE run_id = $1 AND stage = 'ingestion'`, [
          runId,
        ]),
      );

    // A failed ingestion: the date has no input; the error names its folder.
    const missing = await post({ stages: ['ingestion'], run_date: '2025-01-03' });
    assert.equal(await finished(missing), 'failed');
    assert.match(
      await stageError(missing),
      /^no input for business date 2025-01-03: put its four CSV files in raw\/2025-01-03\//,
    );

    // Fault 10 end to end: a file outside the data folder with a secret line, hard-linked as an input.
    const line = `pwline:${randomBytes(16).toString('hex')}:/home/secret:/bin/sh`;
    const outside = join(mkdtempSync(join(tmpdir(), 'secrets-outside-')), 'passwd');
    writeFileSync(outside, `${line}\n${line}\n`);
    const input = join(dataDir, 'raw', RUN_DATE, 'customers.csv');
    rmSync(input);
    linkSync(outside, input);
    const linked = await post({ from: 'ingestion', run_date: RUN_DATE });
    assert.equal(await finished(linked), 'failed');
    assert.match(
      await stageError(linked),
      new RegExp(`^raw/${RUN_DATE}/customers\\.csv: refused, it has 2 hard links`),
    );

    for (const [path, body] of await bodies([missing, linked])) {
      assert.ok(body.includes('raw/'), `${path} names the input: ${body.slice(0, 300)}`);
      for (const folder of paths) assert.ok(!body.includes(folder), `${path} shows ${folder}: ${body}`);
      for (let i = 0; i + 8 <= line.length; i++)
        assert.ok(
          !body.includes(line.slice(i, i + 8)),
          `${path} quotes "${line.slice(i, i + 8)}" of the file`,
        );
    }
    recordFault({
      suite: 'secrets',
      fault:
        'a failed ingestion (no input for the date), then GET /runs, GET /runs/:id and GET /runs/:id/logs, unauthenticated',
      outcome: `the errors name the input relative to the data folder (raw/2025-01-03/); its absolute path appears nowhere`,
      lost: 'nothing',
    });
    recordFault({
      suite: 'secrets',
      fault:
        'a file outside the data folder with a secret line, hard-linked as raw/customers.csv, run through the daemon',
      outcome:
        'refused by name (2 hard links) before it is read; GET /runs, /runs/:id and /runs/:id/logs hold no 8 bytes of it',
      lost: 'nothing',
    });
  });
});
