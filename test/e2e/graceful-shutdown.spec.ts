import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, waitFor } from '../support/daemon-process.js';

const TOKEN = 'shutdown-test-token';

describe('graceful shutdown on SIGTERM', { skip: needsPostgres }, () => {
  let url: string;
  let drop: () => Promise<void>;
  let client: pg.Client;

  before(async () => {
    ({ url, drop } = await createPostgresDatabase('shutdown'));
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await drop?.();
  });

  async function startSlowRun(graceMs: number) {
    const dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `http:\n  shutdown_grace_ms: ${graceMs}\nscheduler:\n  enabled: false\n`);
    const daemon = await startDaemon({
      DATABASE_URL: url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: join(dir, 'data'),
      PIPELINE_API_TOKEN: TOKEN,
      // Holds the cleanup stage inside its transaction for 2 s, as a long stage would.
      PIPELINE_FAULT_POINTS: 'cleanup:pruned=delay:2000',
    });
    const response = await fetch(`${daemon.baseUrl}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stages: ['cleanup'] }),
    });
    assert.equal(response.status, 202);
    const { run_id: runId } = (await response.json()) as { run_id: string };
    await waitFor('the cleanup stage to start', async () => {
      const { rows } = await client.query(
        `SELECT 1 FROM pipeline.stage_runs WHERE run_id = $1 AND status = 'running'`,
        [runId],
      );
      return rows.length > 0;
    });
    return { daemon, runId };
  }

  it('lets the running stage finish within the grace period, records the run, releases the lock and exits 0', async () => {
    const { daemon, runId } = await startSlowRun(30_000);
    daemon.child.kill('SIGTERM');
    const { code } = await daemon.exited;
    assert.equal(code, 0, daemon.output());
    const { rows } = await client.query(`SELECT status FROM pipeline.runs WHERE id = $1`, [runId]);
    assert.equal(rows[0]?.status, 'succeeded');
    const locks =
      await client.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
       WHERE l.locktype = 'advisory' AND d.datname = current_database()`);
    assert.equal(locks.rows[0].n, 0);
  });

  it('aborts a stage that outlasts the grace period and records the run as interrupted, still exiting 0', async () => {
    const { daemon, runId } = await startSlowRun(100);
    daemon.child.kill('SIGTERM');
    const { code } = await daemon.exited;
    assert.equal(code, 0, daemon.output());
    const { rows } = await client.query(`SELECT status FROM pipeline.runs WHERE id = $1`, [runId]);
    assert.equal(rows[0]?.status, 'interrupted');
    const stage = await client.query(
      `SELECT status FROM pipeline.stage_runs WHERE run_id = $1 AND stage = 'cleanup'`,
      [runId],
    );
    assert.equal(stage.rows[0]?.status, 'failed');
  });
});
