// Runs every compiled spec (`dist/**/*.spec.js`) with Node's test runner, several files at once:
// each file makes its own database, so they never collide. Pass folders or spec files (relative to
// dist, e.g. `test/e2e/run-page.spec.js`) to narrow the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2).map((r) => join('dist', r)) : ['dist'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.spec.js')) files.push(path);
  }
}
// A folder is searched for specs; a spec file is taken as it is.
for (const root of roots)
  if (statSync(root).isFile()) files.push(root);
  else walk(root);
files.sort();
if (files.length === 0) {
  console.error('no spec files found under', roots.join(', '));
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
// The Citus cluster specs (test/citus) start three PostgreSQL servers of their own: they run after
// the others, on their own, so that they do not starve the timing-sensitive specs of a small
// machine's cores. Each group prints its own summary.
const cluster = files.filter((f) => f.includes(join('test', 'citus')));
const groups = [files.filter((f) => !cluster.includes(f)), cluster].filter((g) => g.length > 0);
let status = 0;
for (const group of groups) {
  const result = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...group],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
  );
  status = Math.max(status, result.status ?? 1);
}
process.exit(status);
