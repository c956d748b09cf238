/**
 * Invalid configuration files and environment values: each stops the real CLI (`pipeline
 * stages`, and `serve` for a sample) with exit code 2 and one line on stderr naming the key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { recordFault } from './fault-log.js';
import { cli, type CliResult } from './harness.js';

interface ConfigCase {
  readonly name: string;
  /** The YAML file's text (null: PIPELINE_CONFIG names a file that does not exist). */
  readonly yaml: string | null;
  readonly env?: Record<string, string>;
  /** What the one stderr line must contain: the key (or variable) at fault. */
  readonly names: string | RegExp;
  /** What it must not: the value of a secret. */
  readonly unshown?: string;
}

/** A home folder outside the refused system folders, as a service account may have. */
const HOME_DIR = mkdtempSync(join(tmpdir(), 'config-home-'));

/** The folder the program runs from: never a data folder. */
const PROGRAM_DIR = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

const CASES: readonly ConfigCase[] = [
  { name: 'unknown top-level key', yaml: 'colour: blue\n', names: 'colour' },
  {
    name: 'kernel key of the wrong type',
    yaml: 'database:\n  pool_size: ten\n',
    names: 'database.pool_size',
  },
  {
    name: 'plugin key of the wrong type',
    yaml: 'data_generation:\n  customers: many\n',
    names: 'data_generation.customers',
  },
  {
    name: 'unknown key in a plugin section',
    yaml: 'warehouse:\n  high_value_min_spnd: 1\n',
    names: 'high_value_min_spnd',
  },
  {
    name: 'schedule that is not a cron expression',
    yaml: 'scheduler:\n  schedule: every day\n',
    names: 'scheduler.schedule',
  },
  {
    name: 'cron expression with an impossible minute',
    yaml: "scheduler:\n  schedule: '61 * * * *'\n",
    names: 'scheduler.schedule',
  },
  {
    name: 'unknown time zone',
    yaml: 'scheduler:\n  timezone: Mars/Olympus_Mons\n',
    names: 'scheduler.timezone',
  },
  {
    name: 'negative retry attempts',
    yaml: 'pipeline:\n  retry: { attempts: -1 }\n',
    names: 'pipeline.retry.attempts',
  },
  {
    name: 'data_generation quantity min > max',
    yaml: 'data_generation:\n  quantity: { min: 5, max: 2 }\n',
    names: 'data_generation.quantity',
  },
  {
    name: 'plausible date window starting before 1900',
    yaml: "quality:\n  plausible_dates: { earliest: '1800-01-01' }\n",
    names: 'quality.plausible_dates.earliest',
  },
  {
    name: 'plausible date window reaching more than 366 days past the run date',
    yaml: 'quality:\n  plausible_dates: { days_after_run_date: 1000 }\n',
    names: 'quality.plausible_dates.days_after_run_date',
  },
  {
    name: 'quality weights of the wrong type',
    yaml: 'quality:\n  weights: { completeness: high }\n',
    names: 'quality.weights.completeness',
  },
  {
    name: 'unknown stage in pipeline.stages',
    yaml: 'pipeline:\n  stages:\n    warehous: { enabled: false }\n',
    names: 'warehous',
  },
  {
    name: 'YAML syntax error',
    yaml: 'pipeline:\n  retry: { attempts: 3\nscheduler: [\n',
    names: 'config.yaml',
  },
  { name: 'PORT=abc', yaml: '', env: { PORT: 'abc' }, names: 'PORT' },
  { name: 'LOG_LEVEL=loud', yaml: '', env: { LOG_LEVEL: 'loud' }, names: /LOG_LEVEL|logging\.level/ },
  { name: 'negative retention days', yaml: 'retention:\n  raw_days: -1\n', names: 'retention.raw_days' },
  { name: 'PIPELINE_CONFIG naming a missing file', yaml: null, names: 'PIPELINE_CONFIG' },
  {
    name: 'DATABASE_URL with a port that is not a number (was exit 1, "Invalid URL")',
    yaml: '',
    env: { DATABASE_URL: 'postgres://app:s3cret-pw@db.example.com:port/shop' },
    names: 'database.url (from DATABASE_URL)',
    unshown: 's3cret-pw',
  },
  {
    name: 'DATABASE_URL of another database (mysql://)',
    yaml: '',
    env: { DATABASE_URL: 'mysql://app:s3cret-pw@db.example.com/shop' },
    names: 'database.url (from DATABASE_URL)',
    unshown: 's3cret-pw',
  },
  {
    name: 'DATABASE_URL with a port out of range',
    yaml: '',
    env: { DATABASE_URL: 'postgres://app:s3cret-pw@db.example.com:99999/shop' },
    names: 'database.url (from DATABASE_URL)',
    unshown: 's3cret-pw',
  },
  {
    name: 'DATABASE_URL whose password is not percent-encoded',
    yaml: '',
    env: { DATABASE_URL: 'postgres://app:s3cret%zz@db.example.com/shop' },
    names: 'database.url (from DATABASE_URL)',
    unshown: 's3cret',
  },
  {
    name: 'PIPELINE_DATA_DIR=/ (the root folder)',
    yaml: '',
    env: { PIPELINE_DATA_DIR: '/' },
    names: 'pipeline.data_dir (from PIPELINE_DATA_DIR)',
  },
  {
    name: 'PIPELINE_DATA_DIR=/root (a home folder)',
    yaml: '',
    env: { PIPELINE_DATA_DIR: '/root' },
    names: 'pipeline.data_dir',
  },
  {
    name: "PIPELINE_DATA_DIR=/home/alice (a user's home)",
    yaml: '',
    env: { PIPELINE_DATA_DIR: '/home/alice' },
    names: 'pipeline.data_dir',
  },
  {
    name: 'PIPELINE_DATA_DIR=/etc (a system folder)',
    yaml: '',
    env: { PIPELINE_DATA_DIR: '/etc' },
    names: 'pipeline.data_dir',
  },
  {
    name: 'PIPELINE_DATA_DIR=/var/lib (a system folder)',
    yaml: '',
    env: { PIPELINE_DATA_DIR: '/var/lib' },
    names: 'pipeline.data_dir',
  },
  {
    name: "PIPELINE_DATA_DIR is the program's own folder",
    yaml: '',
    env: { PIPELINE_DATA_DIR: PROGRAM_DIR },
    names: 'pipeline.data_dir',
  },
  {
    name: 'PIPELINE_DATA_DIR is the home folder of the user it runs as (HOME, outside /home)',
    yaml: '',
    env: { HOME: HOME_DIR, PIPELINE_DATA_DIR: HOME_DIR },
    names: 'pipeline.data_dir (from PIPELINE_DATA_DIR)',
  },
  {
    name: 'pipeline.data_dir is a symlink to /',
    yaml: `pipeline:\n  data_dir: ${symlinkTo('/')}\n`,
    env: { PIPELINE_DATA_DIR: '' },
    names: 'pipeline.data_dir',
  },
  {
    name: 'pipeline.data_dir_refused with a relative path',
    yaml: 'pipeline:\n  data_dir_refused: [home]\n',
    names: 'pipeline.data_dir_refused.0',
  },
  {
    name: 'pipeline.written_files outside the data folder',
    yaml: 'pipeline:\n  written_files: ../manifest.jsonl\n',
    names: 'pipeline.written_files',
  },
  {
    name: 'pipeline.run_date_window.earliest that is a word',
    yaml: 'pipeline:\n  run_date_window: { earliest: epoch }\n',
    names: 'pipeline.run_date_window.earliest',
  },
  {
    name: 'pipeline.run_date_window.earliest after today + max_days_ahead (every run refused)',
    yaml: "pipeline:\n  run_date_window: { earliest: '2999-01-01', max_days_ahead: 1 }\n",
    names: 'pipeline.run_date_window.earliest',
  },
  {
    name: 'pipeline.run_date_window.max_days_ahead negative',
    yaml: 'pipeline:\n  run_date_window: { max_days_ahead: -1 }\n',
    names: 'pipeline.run_date_window.max_days_ahead',
  },
];

/** A fresh symlink to `target`, as a data folder someone linked elsewhere. */
function symlinkTo(target: string): string {
  const link = join(mkdtempSync(join(tmpdir(), 'config-link-')), 'data');
  symlinkSync(target, link);
  return link;
}

function configPath(yaml: string | null): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-case-'));
  const path = join(dir, 'config.yaml');
  if (yaml !== null) writeFileSync(path, yaml);
  return path;
}

async function start(
  c: ConfigCase,
  command: string,
  url = 'postgres://nobody@127.0.0.1:1/none',
): Promise<CliResult> {
  return cli(
    {
      PIPELINE_CONFIG: configPath(c.yaml),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'config-data-')),
      DATABASE_URL: url,
      ...c.env,
    },
    command,
  );
}

describe('invalid configuration stops the program with exit code 2 and one line naming the key', () => {
  const results = new Map<string, CliResult>();

  before(async () => {
    // Four processes at a time: each start-up costs about a second of CPU.
    const queue = [...CASES];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) results.set(c.name, await start(c, 'stages'));
      }),
    );
  });

  for (const c of CASES) {
    it(`${c.name}: exit 2, one stderr line naming ${String(c.names)}`, () => {
      const result = results.get(c.name)!;
      const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      const named = typeof c.names === 'string' ? lines[0]!.includes(c.names) : c.names.test(lines[0]!);
      assert.ok(named, `"${lines[0]}" names ${String(c.names)}`);
      if (c.unshown)
        assert.ok(!result.stderr.includes(c.unshown), `the secret is not shown: ${result.stderr}`);
      assert.doesNotMatch(result.stdout, /"level":"(error|fatal)"/, 'no error logs beyond the one line');
      recordFault({
        suite: 'config catalogue',
        fault: c.name,
        // Where the program lives differs between checkouts; the table must not.
        outcome: `exit 2: ${lines[0]!.replaceAll(PROGRAM_DIR, '<program folder>').slice(0, 160)}`,
        lost: 'nothing (nothing started)',
      });
    });
  }

  it(
    'serve refuses to start the same way, on a reachable database too',
    { skip: needsPostgres },
    async () => {
      const { url, drop } = await createPostgresDatabase('config');
      try {
        for (const c of CASES.filter((x) =>
          [
            'unknown stage in pipeline.stages',
            'PORT=abc',
            'cron expression with an impossible minute',
            'plugin key of the wrong type',
          ].includes(x.name),
        )) {
          const result = await start(c, 'serve', url);
          assert.equal(result.code, 2, `${c.name}: ${result.stderr}`);
          assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
          assert.ok(typeof c.names === 'string' && result.stderr.includes(c.names), result.stderr);
        }
      } finally {
        await drop();
      }
    },
  );
});
