/** `pipeline plugin new` writes a plugin package that builds and passes its own test as generated. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const CLI = fileURLToPath(new URL('../../apps/daemon/src/cli.js', import.meta.url));
const TSC = resolve('node_modules/typescript/bin/tsc');

// Without NODE_TEST_CONTEXT: the generated package's test runner reports as if run by hand.
const { NODE_TEST_CONTEXT: _runner, ...env } = process.env;
const run = (args: string[], cwd: string) =>
  spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...env, LOG_LEVEL: 'error' } });

describe('pipeline plugin new', () => {
  const root = mkdtempSync(join(tmpdir(), 'plugin-scaffold-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes a package that builds and passes its own test, on the kit', () => {
    const dir = join(root, 'loyalty-points');
    const made = run([CLI, 'plugin', 'new', '@acme/loyalty-points', '--dir', dir], root);
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /^wrote 8 files to /);
    // The generated package finds @pipeline/kernel (and TypeScript's node types) as it would once
    // installed beside the daemon: through a node_modules that holds them.
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    const built = run([TSC, '-p', 'tsconfig.json'], dir);
    assert.equal(built.status, 0, `${built.stdout}\n${built.stderr}`);
    const tested = run(['--test', '--test-reporter=tap', 'dist/loyalty-points.stage.spec.js'], dir);
    assert.equal(tested.status, 0, `${tested.stdout}\n${tested.stderr}`);
    assert.match(tested.stdout, /^# pass 1$/m);
  });

  it('refuses, in one line, a folder that is not empty and a name that is not a package name', () => {
    const full = mkdtempSync(join(root, 'full-'));
    writeFileSync(join(full, 'keep.txt'), 'x');
    const occupied = run([CLI, 'plugin', 'new', 'points', '--dir', full], root);
    assert.equal(occupied.status, 2);
    assert.equal(occupied.stderr, `pipeline: plugin new: ${full} is not empty\n`);
    const badName = run([CLI, 'plugin', 'new', 'Loyalty Points', '--dir', join(root, 'x')], root);
    assert.equal(badName.status, 2);
    assert.match(badName.stderr, /^pipeline: plugin new: "Loyalty Points" is not a package name[^\n]*\n$/);
  });
});
