/**
 * A third party's plugin, added to a deployment as its README says: the example package
 * (examples/loyalty-points) is built and packed with `npm pack`, a separate copy of the daemon
 * gets it with `npm install <tarball>` and one more line under `plugins:`, and nothing else of
 * that copy changes. Started on a fresh database, the daemon migrates the plugin's schema, runs
 * its stage after the warehouse in a real (scheduled) run, and shows it on /stages, /plugins and
 * /metrics. The package's own test (on the kernel's kit) runs too: this repository builds no
 * other copy of it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { EmbeddedDatabase } from '../../libs/database/index.js';
import { freePort } from '../support/daemon-process.js';
import { createPostgresDatabase } from '../support/databases.js';

const REPO = process.cwd();
const EXAMPLE = join(REPO, 'examples/loyalty-points');
const PACKAGE = '@acme/pipeline-plugin-loyalty-points';
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
const NPM_FLAGS = ['--offline', '--no-audit', '--no-fund', '--loglevel=error'];

// npm and the daemon run as they would by hand: not as test children (NODE_TEST_CONTEXT), and
// without the npm_* variables `npm test` sets for this repository (npm_package_*, the root's
// npm_config_*): the copy's npm reads its own configuration, as an operator's would.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT' && !/^npm_/i.test(name)),
);

function sh(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...env, ...extraEnv } });
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} in ${cwd}:\n${result.stdout}\n${result.stderr}`,
  );
  return result.stdout;
}

/** Path -> sha256 of every file under `dir` (symbolic links by their target). */
function digests(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile())
        found.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return found;
}

/**
 * A copy of the daemon laid out as its container image is (deploy/docker/Dockerfile): its
 * package.json and lock, node_modules, the build output, the workspace packages' manifests with
 * their links to that output, and the configuration. Test and bench output stay out, as there.
 */
function copyDaemon(target: string): void {
  mkdirSync(target);
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(REPO, file), join(target, file));
  cpSync(join(REPO, 'config'), join(target, 'config'), { recursive: true });
  cpSync(join(REPO, 'dist'), join(target, 'dist'), {
    recursive: true,
    filter: (source) => !['dist/test', 'dist/bench'].includes(relative(REPO, source)),
  });
  const workspaces = [
    'libs',
    'migrations',
    ...readdirSync(join(REPO, 'plugins')).map((name) => `plugins/${name}`),
  ];
  for (const folder of workspaces) {
    mkdirSync(join(target, folder), { recursive: true });
    cpSync(join(REPO, folder, 'package.json'), join(target, folder, 'package.json'));
    symlinkSync(relative(join(target, folder), join(target, 'dist', folder)), join(target, folder, 'dist'));
  }
  // node_modules (200 MB) as hard links: a copy in a second instead of half a minute. npm replaces
  // the packages it changes rather than writing into them, except for its own record of the
  // tree, which is copied so that installing here cannot touch the repository's.
  sh('cp', ['-al', join(REPO, 'node_modules'), join(target, 'node_modules')], REPO);
  rmSync(join(target, 'node_modules/.package-lock.json'));
  cpSync(join(REPO, 'node_modules/.package-lock.json'), join(target, 'node_modules/.package-lock.json'));
}

interface Daemon {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  output(): string;
}

async function serve(cwd: string, databaseUrl: string | undefined): Promise<Daemon> {
  const port = await freePort();
  const { DATABASE_URL: _ours, PIPELINE_CONFIG: _config, PIPELINE_PLUGINS: _plugins, ...rest } = env;
  const child = spawn(process.execPath, ['dist/apps/daemon/src/cli.js', 'serve'], {
    cwd,
    env: {
      ...rest,
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { child, baseUrl: `http://127.0.0.1:${port}`, output: () => text };
}

async function waitFor<T>(what: string, daemon: Daemon, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (daemon.child.exitCode !== null)
      throw new Error(`the daemon exited waiting for ${what}:\n${daemon.output()}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${daemon.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** GET /runs/:id: the run, its report, and when each of its stages started and finished. */
interface Run {
  id: string;
  trigger: string;
  status: string;
  report: {
    plugins: Record<string, string>;
    stages: Array<{
      stage: string;
      status: string;
      error: string | null;
      details: Record<string, unknown> | null;
    }>;
  };
  stages: Array<{ stage: string; started_at: string; finished_at: string }>;
}

describe('a third-party plugin installed from its npm tarball into a copy of the daemon', () => {
  const root = mkdtempSync(join(tmpdir(), 'third-party-plugin-'));
  const daemonDir = join(root, 'daemon');
  let dropDatabase: () => Promise<void> = async () => undefined;
  let databaseUrl: string | undefined;
  let daemon: Daemon | undefined;
  let distAsCopied: Map<string, string>;

  // What the daemon answered while it ran, and its run; the database is read after it stopped
  // (the embedded database has one process at a time).
  let stages: Array<{ name: string; depends_on: string[] }>;
  let plugins: Array<{
    name: string;
    version: string;
    kernel_api: string;
    stages: string[];
    migrations: unknown;
  }>;
  let metrics: string;
  let run: Run;
  let migrateStatus: string;

  before(async () => {
    // The package, as its author ships it: built with its own tsconfig, packed by npm.
    rmSync(join(EXAMPLE, 'dist'), { recursive: true, force: true });
    sh(process.execPath, [TSC, '-p', 'tsconfig.json'], EXAMPLE);
    const [packed] = JSON.parse(
      sh('npm', ['pack', '--json', '--pack-destination', root, ...NPM_FLAGS], EXAMPLE),
    ) as [{ filename: string; files: Array<{ path: string }> }];
    const tarball = join(root, packed.filename);
    assert.ok(
      packed.files.every((f) => !f.path.includes('.spec.')),
      'the package ships no tests',
    );

    copyDaemon(daemonDir);
    distAsCopied = digests(join(daemonDir, 'dist'));

    // The operator's whole change: one npm install and one line of configuration.
    sh('npm', ['install', tarball, ...NPM_FLAGS], daemonDir);
    const configPath = join(daemonDir, 'config/config.yaml');
    const config = readFileSync(configPath, 'utf8');
    const last = "  - '@pipeline/plugin-cleanup'\n";
    assert.equal(config.split(last).length, 2, 'config/config.yaml lists @pipeline/plugin-cleanup once');
    writeFileSync(configPath, config.replace(last, `${last}  - '${PACKAGE}'\n`));

    if (process.env.TEST_DATABASE_URL) {
      const created = await createPostgresDatabase('third_party');
      databaseUrl = created.url;
      dropDatabase = created.drop;
    }
    // A fresh database: the daemon migrates on start, and catches up today's scheduled run that it
    // missed (none is recorded), a real run of every stage.
    daemon = await serve(daemonDir, databaseUrl);
    const d = daemon;
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${d.baseUrl}${path}`);
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return (path === '/metrics' ? res.text() : res.json()) as Promise<T>;
    };
    // Waiting on /metrics, which reads no database: on the embedded database, GET /runs polled
    // during a run makes the run's heartbeat see the run as taken away (reported apart; it
    // happens without any plugin), and this test is about the plugin, not that.
    await waitFor('the catch-up run to finish', d, async () => {
      const finished = [
        ...(await get<string>('/metrics')).matchAll(/^pipeline_runs_total\{status="\w+"\} (\d+)$/gm),
      ];
      return finished.some(([, count]) => Number(count) > 0) ? true : undefined;
    });
    const { runs } = await get<{ runs: Array<{ id: string }> }>('/runs');
    assert.equal(runs.length, 1, 'one run: the catch-up');
    const runId = runs[0]!.id;
    run = await get<Run>(`/runs/${runId}`);
    stages = (await get<{ stages: typeof stages }>('/stages')).stages;
    plugins = (await get<{ plugins: typeof plugins }>('/plugins')).plugins;
    metrics = await get<string>('/metrics');
    d.child.kill('SIGTERM');
    await once(d.child, 'exit');
    migrateStatus = sh(
      process.execPath,
      ['dist/apps/daemon/src/cli.js', 'migrate', '--status'],
      daemonDir,
      databaseUrl ? { DATABASE_URL: databaseUrl } : {},
    );
  });

  after(async () => {
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await once(daemon.child, 'exit');
    }
    await dropDatabase();
    rmSync(root, { recursive: true, force: true });
    rmSync(join(EXAMPLE, 'dist'), { recursive: true, force: true });
  });

  /** The copy's database, opened now that the daemon has stopped. */
  async function query<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
    if (databaseUrl) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query<R>(sql)).rows;
      } finally {
        await client.end();
      }
    }
    const db = await EmbeddedDatabase.open({ dir: resolve(daemonDir, 'data/db'), poolSize: 2 });
    try {
      return (await db.pool.query<R>(sql)).rows;
    } finally {
      await db.close();
    }
  }

  it('passes its own test, written with the kit, as its author runs it', () => {
    // Built in before(); the spec is in dist but not in the tarball.
    const tested = spawnSync(
      process.execPath,
      ['--test', '--test-reporter=tap', 'dist/loyalty-points.stage.spec.js'],
      {
        cwd: EXAMPLE,
        encoding: 'utf8',
        env,
      },
    );
    assert.equal(tested.status, 0, `${tested.stdout}\n${tested.stderr}`);
    assert.match(tested.stdout, /^# pass 2$/m);
  });

  it('changes no file of the daemon: npm records the package, the configuration gains one line', () => {
    assert.deepEqual(digests(join(daemonDir, 'dist')), distAsCopied);
    const diff = spawnSync(
      'git',
      [
        'diff',
        '--no-index',
        '--unified=0',
        join(REPO, 'config/config.yaml'),
        join(daemonDir, 'config/config.yaml'),
      ],
      {
        encoding: 'utf8',
      },
    );
    const changed = diff.stdout.split('\n').filter((l) => /^[+-][^+-]/.test(l));
    assert.deepEqual(changed, [`+  - '${PACKAGE}'`]);
    const manifest = JSON.parse(readFileSync(join(daemonDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.match(
      manifest.dependencies[PACKAGE]!,
      /^file:.*acme-pipeline-plugin-loyalty-points-0\.1\.0\.tgz$/,
    );
    // Installed as a package of its own, resolving the kernel to the daemon's (a peer, not a copy).
    assert.ok(statSync(join(daemonDir, 'node_modules', PACKAGE, 'dist/index.js')).isFile());
    assert.throws(() => statSync(join(daemonDir, 'node_modules', PACKAGE, 'node_modules')), /ENOENT/);
  });

  it('applies its migration, with a history of its own', async () => {
    assert.match(
      migrateStatus,
      /^@acme\/pipeline-plugin-loyalty-points \(pipeline\.migrations_acme_pipeline_plugin_loyalty_points\): applied 1, pending: none$/m,
    );
    const history = await query<{ name: string }>(
      'SELECT name FROM pipeline.migrations_acme_pipeline_plugin_loyalty_points ORDER BY id',
    );
    assert.deepEqual(history, [{ name: 'LoyaltySchema1766200000000' }]);
    const plugin = plugins.find((p) => p.name === PACKAGE);
    assert.deepEqual(plugin, {
      name: PACKAGE,
      version: '0.1.0',
      kernel_api: '^1.0.0',
      stages: ['loyalty-points'],
      reads: [],
      migrations: {
        history: 'pipeline.migrations_acme_pipeline_plugin_loyalty_points',
        applied: ['LoyaltySchema1766200000000'],
        pending: [],
      },
    });
  });

  it('lists its stage on /stages after the warehouse, which it depends on', () => {
    const names = stages.map((s) => s.name);
    const loyalty = stages.find((s) => s.name === 'loyalty-points');
    assert.deepEqual(loyalty?.depends_on, ['warehouse']);
    assert.ok(names.indexOf('loyalty-points') > names.indexOf('warehouse'), names.join(', '));
  });

  it('runs its stage in a real run, after the warehouse finished, writing its own table', async () => {
    assert.equal(run.trigger, 'schedule');
    const failed = run.report.stages.filter((s) => s.status !== 'succeeded');
    assert.equal(run.status, 'succeeded', JSON.stringify(failed));
    assert.equal(run.report.plugins[PACKAGE], '0.1.0');
    const stage = run.report.stages.find((s) => s.stage === 'loyalty-points');
    assert.equal(stage?.status, 'succeeded', stage?.error ?? '');

    const timesOf = (name: string) => run.stages.find((s) => s.stage === name)!;
    assert.ok(
      Date.parse(timesOf('loyalty-points').started_at) >= Date.parse(timesOf('warehouse').finished_at),
      JSON.stringify(run.stages),
    );

    // Its table holds one row per customer and day of the warehouse's facts, and nothing else.
    const [table] = await query<{ rows: number; facts_days: number; points: string }>(
      `SELECT (SELECT count(*)::int FROM loyalty.customer_points) AS rows,
              (SELECT count(DISTINCT (c.customer_id, f.date_key))::int
                 FROM warehouse.fact_sales f JOIN warehouse.dim_customers c USING (customer_key)) AS facts_days,
              (SELECT sum(points)::text FROM loyalty.customer_points) AS points`,
    );
    assert.ok(table!.rows > 0, 'the run generated sales, so customers earned points');
    assert.equal(table!.rows, table!.facts_days);
    assert.equal(stage?.details?.points_held, Number(table!.points));
  });

  it('exposes its metric on /metrics with what its table holds, and its version in pipeline_plugin_info', async () => {
    const [{ points }] = (await query<{ points: string }>(
      'SELECT sum(points)::text AS points FROM loyalty.customer_points',
    )) as [{ points: string }];
    assert.match(metrics, /^# TYPE pipeline_loyalty_points_awarded gauge$/m);
    assert.match(metrics, new RegExp(`^pipeline_loyalty_points_awarded ${points}$`, 'm'));
    assert.match(
      metrics,
      /^pipeline_plugin_info\{plugin="@acme\/pipeline-plugin-loyalty-points",version="0\.1\.0"\} 1$/m,
    );
  });
});
