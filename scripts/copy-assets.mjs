// tsc compiles only TypeScript; the SQL files beside each stage and migration ship with it, and so
// do the run page's HTML, CSS and script (served as they are: no front-end build).
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['apps', 'libs', 'plugins', 'migrations', 'test', 'bench'];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
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
