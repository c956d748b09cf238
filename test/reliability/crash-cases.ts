/**
 * Crash at a checkpoint, restart, compare: the process SIGKILLs itself inside a stage's
 * transaction (after its writes, before COMMIT); the next process (`run --date` again, or
 * `run --resume`) must finish the day so that staging, production and warehouse hold exactly
 * what an uninterrupted run on another fresh database holds (see `contentChecksums`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { recordFault } from './fault-log.js';
import { RUN_DATE, cli, contentChecksums, scalar, smallConfig, withClient } from './harness.js';

export interface CrashCase {
  readonly point: string;
  /** How the day is finished after the crash. */
  readonly restart: 'run' | 'resume';
  /** A schema the crashed stage writes: it must be empty right after the crash. */
  readonly untouched?: string;
}

export function crashSuite(title: string, cases: readonly CrashCase[]): void {
  describe(title, { skip: needsPostgres }, () => {
    const config = smallConfig();
    const drops: Array<() => Promise<void>> = [];
    let baseline: Record<string, string>;

    const freshDatabase = async (prefix: string): Promise<string> => {
      const { url, drop } = await createPostgresDatabase(prefix);
      drops.push(drop);
      return url;
    };

    before(async () => {
      const url = await freshDatabase('crash_base');
      const env = {
        DATABASE_URL: url,
        PIPELINE_CONFIG: config,
        PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'crash-base-')),
      };
      const clean = await cli(env, 'run', '--date', RUN_DATE);
      assert.equal(clean.code, 0, clean.stderr);
      baseline = await withClient(url, (c) => contentChecksums(c));
      assert.notEqual(baseline['warehouse.fact_sales']?.split(':')[0], '0', 'the clean run loaded facts');
    });

    after(async () => {
      for (const drop of drops) await drop().catch(() => undefined);
    });

    for (const { point, restart, untouched } of cases) {
      it(`a SIGKILL at ${point} loses nothing: ${restart === 'run' ? 'run --date' : 'run --resume'} finishes the day as an uninterrupted run would`, async () => {
        const url = await freshDatabase('crash');
        const env = {
          DATABASE_URL: url,
          PIPELINE_CONFIG: config,
          PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'crash-')),
        };

        const crashed = await cli(
          { ...env, PIPELINE_FAULT_POINTS: `${point}=crash` },
          'run',
          '--date',
          RUN_DATE,
        );
        assert.equal(crashed.signal, 'SIGKILL', `the process killed itself at ${point}:\n${crashed.stderr}`);
        const crashedRun = await withClient(url, async (c) => {
          const { rows } = await c.query<{ id: string; status: string }>(
            `SELECT id, status FROM pipeline.runs`,
          );
          assert.equal(rows.length, 1);
          assert.equal(rows[0]!.status, 'running', 'nobody has noticed the death yet');
          if (untouched) {
            const sums = await contentChecksums(c, [untouched]);
            for (const [table, sum] of Object.entries(sums))
              assert.match(sum, /^0:/, `${table} is empty: the killed transaction did not commit`);
          }
          return rows[0]!.id;
        });

        const again =
          restart === 'run' ? await cli(env, 'run', '--date', RUN_DATE) : await cli(env, 'run', '--resume');
        assert.equal(again.code, 0, again.stderr);

        await withClient(url, async (c) => {
          assert.equal(
            await scalar(c, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [crashedRun]),
            'abandoned',
            'the next lock holder marked the killed run abandoned',
          );
          assert.equal(
            await scalar(
              c,
              `SELECT count(*) AS v FROM pipeline.runs WHERE run_date = $1 AND status = 'succeeded'`,
              [RUN_DATE],
            ),
            '1',
            'exactly one run of the business date succeeded',
          );
          if (restart === 'resume')
            assert.equal(
              await scalar(c, `SELECT resumed_from AS v FROM pipeline.runs WHERE status = 'succeeded'`),
              crashedRun,
            );
          assert.deepEqual(await contentChecksums(c), baseline);
        });
        recordFault({
          suite: 'crash points',
          fault: `SIGKILL at ${point}, then ${restart === 'run' ? '`run --date`' : '`run --resume`'}`,
          outcome:
            'killed run marked abandoned by the next lock holder; the day finished by one succeeded run',
          lost: 'nothing: staging, production and warehouse checksums equal a clean run',
        });
      });
    }
  });
}
