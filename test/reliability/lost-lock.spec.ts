/**
 * The run lock's connection dies while the holder is inside a stage's transaction (its writes
 * done, COMMIT not yet sent): the holder must not commit, its run ends failed or abandoned, and
 * another process can take the lock and finish the day.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';
import {
  RUN_DATE,
  cli,
  contentChecksums,
  scalar,
  smallConfig,
  waitInsideCheckpoint,
  withClient,
} from './harness.js';

const TOKEN = 'lost-lock-token';

describe('a run whose lock connection dies inside a stage transaction', { skip: needsPostgres }, () => {
  let url: string;
  let drop: () => Promise<void>;
  let daemon: DaemonProcess;
  let client: pg.Client;
  const config = smallConfig();
  const dataDir = mkdtempSync(join(tmpdir(), 'lost-lock-'));

  before(async () => {
    ({ url, drop } = await createPostgresDatabase('lostlock'));
    daemon = await startDaemon({
      DATABASE_URL: url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: dataDir,
      PIPELINE_API_TOKEN: TOKEN,
      PIPELINE_FAULT_POINTS: 'warehouse:loaded=delay:8000',
    });
    client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
  });

  after(async () => {
    await client?.end().catch(() => undefined);
    daemon?.child.kill('SIGKILL');
    await daemon?.exited;
    await drop?.();
  });

  it('does not commit the stage, ends the run, and lets another process finish the day', async () => {
    const response = await fetch(`${daemon.baseUrl}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_date: RUN_DATE }),
    });
    assert.equal(response.status, 202);
    const { run_id: runId } = (await response.json()) as { run_id: string };

    await waitInsideCheckpoint(client, 'warehouse', runId);
    const killed = await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%:lock'`,
    );
    assert.equal(killed.rowCount, 1, 'exactly one lock connection');

    const status = await waitFor(
      'the run to end',
      async () => {
        const s = await scalar(client, `SELECT status AS v FROM pipeline.runs WHERE id = $1`, [runId]);
        return s === 'running' ? null : s;
      },
      30_000,
    );
    assert.ok(['failed', 'abandoned'].includes(status), `run ended ${status}`);
    const warehouse = await contentChecksums(client, ['warehouse']);
    for (const [table, sum] of Object.entries(warehouse))
      assert.match(sum, /^0:/, `${table} holds nothing of the fenced stage`);
    assert.notEqual(
      await scalar(client, 'SELECT count(*) AS v FROM production.transaction_items'),
      '0',
      'earlier stages had committed',
    );

    // Another process takes over; the daemon that lost its lock stays up.
    const takeover = await cli(
      {
        DATABASE_URL: url,
        PIPELINE_CONFIG: config,
        PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'lost-lock-b-')),
      },
      'run',
      '--date',
      RUN_DATE,
    );
    assert.equal(takeover.code, 0, takeover.stderr);
    await withClient(url, async (c) => {
      assert.equal(
        await scalar(
          c,
          `SELECT count(*) AS v FROM pipeline.runs WHERE run_date = $1 AND status = 'succeeded'`,
          [RUN_DATE],
        ),
        '1',
      );
      assert.equal(
        await scalar(c, 'SELECT count(*) AS v FROM warehouse.fact_sales'),
        await scalar(c, 'SELECT count(*) AS v FROM production.transaction_items'),
      );
    });
    assert.equal((await fetch(`${daemon.baseUrl}/health/live`)).status, 200);
    const stageError = await scalar(
      client,
      `SELECT error AS v FROM pipeline.stage_runs WHERE run_id = $1 AND stage = 'warehouse'`,
      [runId],
    );
    recordFault({
      suite: 'lost lock',
      fault: 'lock connection terminated while warehouse sat inside its transaction',
      outcome: `holder's run ${status} (${stageError.slice(0, 80)}); another process then ran the day to success`,
      lost: 'nothing: the fenced warehouse writes were rolled back, the next run loaded them',
    });
  });
});
