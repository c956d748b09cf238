// tsc compiles only TypeScript; the SQL files beside each stage and migration ship with it.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['apps', 'libs', 'plugins', 'migrations', 'test', 'bench'];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(sql|csv|json|ya?ml)$/.test(name)) cpSync(path, join('dist', path));
  }
}
for (const root of roots) {
  try {
    walk(root);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
}
