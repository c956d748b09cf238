// tsc compiles only TypeScript; the SQL files beside each stage and migration ship with it, and so
// do the run page's HTML, CSS and script (served as they are: no front-end build).
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['apps', 'libs', 'plugins', 'migrations', 'test', 'bench'];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'dist' || name === 'node_modules') continue; // a package's link to its build output
    if (statSync(path).isDirectory()) walk(path);
    // A workspace package's package.json stays out: in dist it would make the package's own name
    // resolve inside dist (self-reference) to an exports target that only exists beside the source.
    // (A plugin imports its package.json for its manifest; tsc emits that copy itself.)
    else if (name === 'package.json') continue;
    else if (
      /\.(sql|csv|json|ya?ml)$/.test(name) ||
      (/\.(html|css|js)$/.test(name) && /[/\\]page$/.test(dir))
    )
      cpSync(path, join('dist', path));
  }
}
for (const root of roots) {
  try {
    walk(root);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}

// The version a run records: package version and, when built from a checkout, the commit.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
let commit;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
} catch {
  commit = null;
}
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync('dist/build-info.json', JSON.stringify({ version, commit }) + '\n');
