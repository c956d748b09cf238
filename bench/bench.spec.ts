import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const BENCH = fileURLToPath(new URL('./bench.js', import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8' });

describe('npm run bench, asked for its options', () => {
  it('lists every option on --help and exits 0 without running anything', () => {
    const { status, stdout } = bench('--help');
    assert.equal(status, 0);
    for (const option of ['--transactions', '--embedded', '--citus', '--increment-on', '--repeat', '--check'])
      assert.match(stdout, new RegExp(`^  ${option}\\b`, 'm'), option);
  });

  it('names an unknown option in one line and exits 2, without a stack trace', () => {
    const { status, stderr } = bench('--transaction', '5');
    assert.equal(status, 2);
    assert.match(stderr, /Unknown option '--transaction'/);
    assert.match(stderr, /--help/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });
});
