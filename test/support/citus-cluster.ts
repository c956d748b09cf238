/**
 * A real Citus cluster for tests (scripts/citus-cluster.sh): a coordinator and two workers on
 * this machine, on ports no other test uses. Starting one costs about 10-20 s, so the Citus specs
 * share one per file. Without the citus extension installed (../shared/citus/install.sh, run by
 * .ci/run when it is there) or without root (the script runs the nodes as the postgres user), the
 * tests that need it are skipped and say why.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, chmodSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Secret } from '../../libs/config/index.js';
import { PostgresDatabase, type Database } from '../../libs/database/index.js';
import { CLI } from './daemon-process.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/citus-cluster.sh', import.meta.url));
const CITUS_LIBRARY = '/usr/lib/postgresql/15/lib/citus.so';

/**
 * Ports 5470-5472 for the tests (the test server is on 5432; nothing else in the suite listens
 * here), 5480-5482 for the bench, so that both can run at once.
 */
export const CITUS_TEST_PORT = 5470;
/** The reliability spec's own cluster (5475-5477), so that both Citus spec files run at once. */
export const CITUS_RELIABILITY_PORT = 5475;
export const CITUS_BENCH_PORT = 5480;
export const CITUS_WORKERS = 2;

function why(): false | string {
  if (!existsSync(CITUS_LIBRARY))
    return `needs the citus extension (${CITUS_LIBRARY} is missing; ../shared/citus/install.sh installs it as root)`;
  if (process.getuid?.() !== 0) return 'needs root to start a Citus cluster (scripts/citus-cluster.sh)';
  return false;
}

/** `{ skip: needsCitus }`: false, or why the cluster tests cannot run here. */
export const needsCitus: false | string = why();

export interface CitusCluster {
  /** The URL of database `name` (default `shop`) on node `node` (default 0, the coordinator). */
  url(name?: string, node?: number): string;
  /** Adds a database to every node, with the citus extension and the workers (a fresh cluster database). */
  addDatabase(name: string): void;
  stopNode(index: number): void;
  startNode(index: number): void;
  stop(): void;
}

function run(...args: string[]): string {
  return execFileSync(SCRIPT, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function startCitusCluster(basePort = CITUS_TEST_PORT): CitusCluster {
  // Under /tmp with every folder searchable: the nodes run as the postgres user.
  const dir = mkdtempSync(join('/tmp', 'citus-test-'));
  chmodSync(dir, 0o755);
  const clusterDir = join(dir, 'cluster');
  const port = String(basePort);
  try {
    run('start', clusterDir, port, String(CITUS_WORKERS));
  } catch (error) {
    run('stop', clusterDir);
    throw error;
  }
  return {
    url: (name = 'shop', node = 0) => `postgres://root@127.0.0.1:${basePort + node}/${name}`,
    addDatabase: (name) => void run('database', clusterDir, port, String(CITUS_WORKERS), name),
    stopNode: (index) => void run('node-stop', clusterDir, String(index)),
    startNode: (index) => void run('node-start', clusterDir, String(index)),
    stop: () => {
      run('stop', clusterDir);
      execFileSync('rm', ['-rf', dir]);
    },
  };
}

/** The data set the Citus specs run: small enough for a few dozen runs in a couple of minutes. */
export const FULL_LOAD = '2024-12-31';
const GENERATION = { customers: 150, products: 60, transactions: 900, start_date: '2024-10-01' };
const DAILY = { transactions: 40, change_share: 0.08, disappear_share: 0.04, return_share: 0.3 };

/** One pipeline CLI invocation: how it ended and what it printed. */
export async function cli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, output };
}

/**
 * A database the pipeline runs against through the real CLI (a cluster's or plain PostgreSQL's):
 * its URL, data folder and configurations per mode (a full load, then daily increments).
 */
export class PipelineTarget {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'citus-data-'));
  private readonly configs: Record<'full' | 'daily', string>;
  private readonly configDir = mkdtempSync(join(tmpdir(), 'citus-config-'));

  constructor(readonly url: string) {
    const configDir = this.configDir;
    const write = (mode: 'full' | 'daily'): string => {
      const path = join(configDir, `${mode}.yaml`);
      writeFileSync(
        path,
        JSON.stringify({
          data_generation: { ...GENERATION, mode, end_date: FULL_LOAD, daily: DAILY },
          scheduler: { enabled: false },
        }),
      );
      return path;
    };
    this.configs = { full: write('full'), daily: write('daily') };
  }

  /** `pipeline <args>` in `mode`'s configuration; `env` adds variables (fault points, say). */
  run(mode: 'full' | 'daily', args: string[], env: Record<string, string> = {}) {
    return cli(
      {
        DATABASE_URL: this.url,
        PIPELINE_DATA_DIR: this.dataDir,
        PIPELINE_CONFIG: this.configs[mode],
        ...env,
      },
      args,
    );
  }

  async runOk(mode: 'full' | 'daily', args: string[]): Promise<void> {
    const { code, output } = await this.run(mode, args);
    assert.equal(code, 0, `pipeline ${args.join(' ')} on ${this.url} failed:\n${output.slice(-3000)}`);
  }

  dispose(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.configDir, { recursive: true, force: true });
  }
}

/** A small pool on a database, for the specs' own queries. */
export function openDatabase(url: string): Database {
  return new PostgresDatabase({
    url: new Secret(url),
    poolSize: 2,
    statementTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
  });
}
