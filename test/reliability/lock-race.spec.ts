import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';

const TOKEN = 'race-test-token';

/** Every stage but cleanup off, so a scheduled run is short and its length is set by a fault delay. */
const QUIET_STAGES = [
  'data-generation',
  'ingestion',
  'quality-checks',
  'production-etl',
  'warehouse',
  'analytics',
  'monitoring',
];

function configFile(schedule: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'race-'));
  const path = join(dir, 'config.yaml');
  const stages = QUIET_STAGES.map((s) => `    ${s}: { enabled: false }`).join('\n');
  writeFileSync(
    path,
    `scheduler:\n  schedule: "${schedule}"\n  catch_up: skip\n  cleanup_after_run: true\npipeline:\n  heartbeat_interval_ms: 500\n  stages:\n${stages}\n`,
  );
  return path;
}

async function metricValue(daemon: DaemonProcess, name: string): Promise<number> {
  const text = await (await fetch(`${daemon.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

for (const replicas of [2, 3]) {
  describe(
    `${replicas} replicas on one database with a schedule every 3 seconds`,
    { skip: needsPostgres },
    () => {
      let url: string;
      let drop: () => Promise<void>;
      let daemons: DaemonProcess[] = [];

      before(async () => {
        ({ url, drop } = await createPostgresDatabase('race'));
      });

      after(async () => {
        for (const d of daemons) d.child.kill('SIGKILL');
        await drop?.();
      });

      it('runs each tick exactly once; the others record a skip and count the contention', async () => {
        const config = configFile('*/3 * * * * *');
        // Migrate once up front so that replicas do not all start by waiting on the migration lock.
        daemons = [];
        for (let i = 0; i < replicas; i++) {
          daemons.push(
            await startDaemon({
              DATABASE_URL: url,
              PIPELINE_CONFIG: config,
              PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), `race-data-${i}-`)),
              PIPELINE_API_TOKEN: TOKEN,
              // Each run lasts over a second, so the replicas' ticks meet a held lock.
              PIPELINE_FAULT_POINTS: 'cleanup:pruned=delay:1200',
            }),
          );
        }
        // Ticks are judged only while every replica is up: the first replica starts seconds before
        // the last one, and the last tick may meet the shutdown.
        const allUp = Date.now();
        await new Promise((r) => setTimeout(r, 10_500));
        const stopping = Date.now();
        for (const d of daemons) d.child.kill('SIGTERM');
        await Promise.all(daemons.map((d) => d.exited));

        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const runs = await client.query<{ scheduled_for: Date | null; n: number }>(
            `SELECT scheduled_for, count(*)::int AS n FROM pipeline.runs WHERE trigger = 'schedule' GROUP BY scheduled_for ORDER BY 1`,
          );
          assert.ok(
            runs.rows.every((r) => r.scheduled_for instanceof Date),
            'every scheduled run records the tick it ran for (its unique key)',
          );
          for (const row of runs.rows)
            assert.equal(row.n, 1, `tick ${row.scheduled_for!.toISOString()} ran ${row.n} times`);
          const failed = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pipeline.runs WHERE status NOT IN ('succeeded', 'interrupted')`,
          );
          assert.equal(failed.rows[0]!.n, 0, 'every run succeeded (or was interrupted by the final SIGTERM)');
          const inWindow = runs.rows.filter(
            (r) => r.scheduled_for!.getTime() > allUp + 500 && r.scheduled_for!.getTime() < stopping - 2_000,
          );
          assert.ok(
            inWindow.length >= 2,
            `expected at least two ticks while all replicas ran, saw ${inWindow.length}`,
          );
          for (const row of inWindow) {
            const skips = await client.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pipeline.run_skips WHERE trigger = 'schedule' AND at >= $1 AND at < $1::timestamptz + interval '2900 ms'`,
              [row.scheduled_for],
            );
            assert.equal(
              skips.rows[0]!.n,
              replicas - 1,
              `tick ${row.scheduled_for!.toISOString()}: every other replica records a skip`,
            );
          }
          recordFault({
            suite: 'lock races',
            fault: `${replicas} replicas, schedule every 3 s, runs of 1.2 s`,
            outcome: 'every tick ran exactly once; every other replica recorded a skip',
            lost: 'nothing',
          });
        } finally {
          await client.end();
        }
      });

      it('answers one 202 and one 409 to simultaneous POST /runs on two processes', async () => {
        const config = configFile('0 2 * * *');
        daemons = [];
        for (let i = 0; i < 2; i++) {
          daemons.push(
            await startDaemon({
              DATABASE_URL: url,
              PIPELINE_CONFIG: config,
              PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), `race-api-${i}-`)),
              PIPELINE_API_TOKEN: TOKEN,
              PIPELINE_FAULT_POINTS: 'cleanup:pruned=delay:1500',
            }),
          );
        }
        const post = (d: DaemonProcess) =>
          fetch(`${d.baseUrl}/runs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ stages: ['cleanup'] }),
          }).then((r) => r.status);
        const statuses = (await Promise.all(daemons.map(post))).sort();
        assert.deepEqual(statuses, [202, 409]);
        const contended = await Promise.all(
          daemons.map((d) => metricValue(d, 'pipeline_lock_contended_total')),
        );
        assert.equal(
          contended.reduce((a, b) => a + b, 0),
          1,
        );
        recordFault({
          suite: 'lock races',
          fault: 'simultaneous POST /runs to two processes',
          outcome: 'one 202, one 409; contention counted once',
          lost: 'nothing',
        });
        for (const d of daemons) d.child.kill('SIGTERM');
        await Promise.all(daemons.map((d) => d.exited));
      });
    },
  );
}
