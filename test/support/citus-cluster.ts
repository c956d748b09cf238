/**
 * A real Citus cluster for tests (scripts/citus-cluster.sh): a coordinator and two workers on
 * this machine, on ports no other test uses. Starting one costs about 10-20 s, so the Citus specs
 * share one per file. Without the citus extension installed (../shared/citus/install.sh, run by
 * .ci/run when it is there) or without root (the script runs the nodes as the postgres user), the
 * tests that need it are skipped and say why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const SCRIPT = fileURLToPath(new URL('../../../scripts/citus-cluster.sh', import.meta.url));
const CITUS_LIBRARY = '/usr/lib/postgresql/15/lib/citus.so';

/**
 * Ports 5470-5472 for the tests (the test server is on 5432; nothing else in the suite listens
 * here), 5480-5482 for the bench, so that both can run at once.
 */
export const CITUS_TEST_PORT = 5470;
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
