import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../test/support/databases.js';

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

describe('npm run bench on PostgreSQL', { skip: needsPostgres }, () => {
  it('prints the copy floor and the layers floor beside the pipeline, each as a ratio of this run', async () => {
    const { url, drop } = await createPostgresDatabase('bench');
    try {
      const { status, stdout, stderr } = bench(
        '--transactions',
        '1000',
        '--database-url',
        url,
        '--label',
        'spec-1000',
      );
      assert.equal(status, 0, stderr);
      assert.match(stdout, /whole pipeline, 1,000 transactions \/ psql \\copy floor \| \d+\.\d\dx/);
      // Each layer of bench/layered-floor.sql took a measured time, and the least is more than the
      // copy floor: generation and ingestion alone are about one copy each.
      const least =
        /layers' floor .*: (\d+\.\d+) \+ (\d+\.\d+) \+ (\d+\.\d+) s; .* is (\d+\.\d+)x the copy floor; the pipeline took (\d+\.\d+)x that least/.exec(
          stdout,
        );
      assert.ok(least, stdout);
      for (const seconds of least.slice(1, 4)) assert.ok(Number(seconds) > 0, least[0]);
      assert.ok(Number(least[4]) > 1, least[0]);
      assert.ok(Number(least[5]) > 0.5, least[0]);
    } finally {
      await drop();
      rmSync(new URL('../../bench/results/spec-1000.md', import.meta.url), { force: true });
      rmSync(new URL('../../bench/results/spec-1000.json', import.meta.url), { force: true });
    }
  });
});
