/**
 * Business dates a run must not have: the end of time, before any data, words. Through every way
 * a run is asked for (CLI `run`, `generate`, `backfill`, and `POST /runs`) each is a usage error
 * (exit 2, HTTP 400) naming `pipeline.run_date_window`, and no run starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';
import { cli, postRun, scalar, smallConfig, withClient } from './harness.js';

const TOKEN = 'run-dates-token';

const CLI_CASES: ReadonlyArray<{ name: string; args: string[]; says: RegExp }> = [
  {
    name: 'run --date 9999-12-30 (the end of time)',
    args: ['run', '--date', '9999-12-30'],
    says: /run date 9999-12-30 is outside the accepted window 2000-01-01 \.\. .*pipeline\.run_date_window/,
  },
  {
    name: 'run --date 1970-01-01 (before the window)',
    args: ['run', '--date', '1970-01-01'],
    says: /outside the accepted window/,
  },
  { name: 'run --date today', args: ['run', '--date', 'today'], says: /expected a date YYYY-MM-DD/ },
  { name: 'run --date epoch', args: ['run', '--date', 'epoch'], says: /expected a date YYYY-MM-DD/ },
  {
    name: 'generate --date 2999-01-01',
    args: ['generate', '--date', '2999-01-01'],
    says: /outside the accepted window/,
  },
  {
    name: 'backfill --from 2025-01-01 --to 9999-12-31',
    args: ['backfill', '--from', '2025-01-01', '--to', '9999-12-31'],
    says: /run date 9999-12-31 is outside the accepted window/,
  },
  {
    name: 'backfill --from 1999-12-25 --to 2000-01-05 --dry-run',
    args: ['backfill', '--from', '1999-12-25', '--to', '2000-01-05', '--dry-run'],
    says: /run date 1999-12-25 is outside the accepted window/,
  },
  {
    name: 'backfill --from epoch --to today',
    args: ['backfill', '--from', 'epoch', '--to', 'today'],
    says: /expected a date YYYY-MM-DD/,
  },
];

const API_CASES: readonly string[] = ['9999-12-30', '1970-01-01', 'today', 'epoch', 'infinity'];

/** The window's end moves with the clock: the table shows it as `today + 1`, so it stays put. */
function stable(text: string): string {
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);
  return text.replaceAll(tomorrow, '<today + 1>').replaceAll(today, '<today>');
}

describe('run dates outside the window, through the CLI and the API', { skip: needsPostgres }, () => {
  let url: string;
  let drop: () => Promise<void>;
  let env: Record<string, string>;
  let daemon: DaemonProcess;

  before(async () => {
    ({ url, drop } = await createPostgresDatabase('dates'));
    env = {
      DATABASE_URL: url,
      PIPELINE_CONFIG: smallConfig(),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'run-dates-')),
      PIPELINE_API_TOKEN: TOKEN,
    };
    daemon = await startDaemon(env);
  });

  after(async () => {
    daemon?.child.kill('SIGKILL');
    await daemon?.exited;
    await drop?.();
  });

  for (const c of CLI_CASES) {
    it(`pipeline ${c.name}: exit 2 naming the problem, no run`, async () => {
      const result = await cli(env, ...c.args);
      assert.equal(result.code, 2, result.stderr);
      const line = result.stderr.split('\n').find((l) => c.says.test(l));
      assert.ok(line, result.stderr);
      assert.equal(
        await withClient(url, (client) => scalar(client, 'SELECT count(*) AS v FROM pipeline.runs')),
        '0',
      );
      recordFault({
        suite: 'run dates',
        fault: `pipeline ${c.name}`,
        outcome: stable(`exit 2: ${line.trim().slice(0, 160)}`),
        lost: 'nothing: no run started',
      });
    });
  }

  for (const date of API_CASES) {
    it(`POST /runs {"run_date": "${date}"}: 400 naming the problem, no run`, async () => {
      const response = await postRun(daemon.baseUrl, TOKEN, { run_date: date });
      const body = (await response.json()) as { statusCode: number; message: string };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(body.message, /outside the accepted window|expected a date YYYY-MM-DD/);
      assert.equal(
        await withClient(url, (client) => scalar(client, 'SELECT count(*) AS v FROM pipeline.runs')),
        '0',
      );
      recordFault({
        suite: 'run dates',
        fault: `POST /runs {"run_date": "${date}"}`,
        outcome: stable(`400: ${body.message.slice(0, 160)}`),
        lost: 'nothing: no run started',
      });
    });
  }
});
