import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freshPostgres, needsPostgres, type TestDatabase } from '../../test/support/databases.js';
import { waitFor } from '../../test/support/daemon-process.js';
import { FencedError } from './errors.js';
import { createStageDatabase } from './stage-database.js';

describe('a stage told to stop, on PostgreSQL', { skip: needsPostgres }, () => {
  let test: TestDatabase;
  let observer: pg.Client;

  before(async () => {
    test = await freshPostgres({ migrate: false });
    observer = new pg.Client({ connectionString: test.url! });
    await observer.connect();
    await observer.query('CREATE TABLE held (id int)');
  });

  after(async () => {
    await observer?.end();
    await test?.dispose();
  });

  const stageDb = (signal: AbortSignal, abandonAfterMs?: number) =>
    createStageDatabase(test.db, {
      statementTimeoutMs: 60_000,
      signal,
      fence: async () => undefined,
      abandonAfterMs,
    });

  /** Statements of other sessions of this database running now. */
  const running = async (like: string): Promise<number> =>
    Number(
      (
        await observer.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE $1`,
          [like],
        )
      ).rows[0]!.n,
    );

  it('cancels the statement it runs on the server at once, instead of when the statement ends', async () => {
    const controller = new AbortController();
    const db = stageDb(controller.signal);
    const sleeping = db.transaction((tx) => tx.query('SELECT pg_sleep(60)'));
    await waitFor('the statement to run', async () => (await running('SELECT pg_sleep%')) === 1);
    const started = Date.now();
    controller.abort(new Error('stage timed out'));
    await assert.rejects(sleeping, (error: unknown) => {
      assert.equal((error as { code?: string }).code, '57014', String(error));
      return true;
    });
    assert.ok(Date.now() - started < 5_000, 'stopped within seconds');
    assert.equal(await running('SELECT pg_sleep%'), 0);
  });

  it('cancels a statement waiting for a lock another session holds', async () => {
    const holder = new pg.Client({ connectionString: test.url! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
      const controller = new AbortController();
      const waiting = stageDb(controller.signal).query('SELECT count(*) FROM held');
      await waitFor('the statement to wait for the lock', async () => {
        const { rows } = await observer.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows.length === 1;
      });
      controller.abort(new Error('shutting down'));
      await assert.rejects(waiting, /canceling statement due to user request/);
    } finally {
      await holder.end();
    }
  });

  it('starts no statement once told to stop, and rolls the transaction back', async () => {
    const controller = new AbortController();
    const db = stageDb(controller.signal);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO held VALUES (1)');
        controller.abort(new Error('lost the lock'));
        await tx.query('INSERT INTO held VALUES (2)');
      }),
      FencedError,
    );
    await assert.rejects(db.query('SELECT 1'), FencedError);
    assert.equal((await observer.query('SELECT count(*)::int AS n FROM held')).rows[0].n, 0);
  });

  it('terminates a session the stage still holds after the grace period, releasing its locks', async () => {
    const controller = new AbortController();
    const db = stageDb(controller.signal, 200);
    let locked!: () => void;
    const holdsLock = new Promise<void>((resolve) => (locked = resolve));
    // A stage whose code is stuck outside the database, inside its transaction, holding a lock.
    const stuck = db.transaction(async (tx) => {
      await tx.query('LOCK TABLE held IN ACCESS EXCLUSIVE MODE');
      locked();
      await new Promise(() => undefined);
    });
    stuck.catch(() => undefined);
    await holdsLock;
    controller.abort(new Error('stage timed out'));
    await waitFor(
      'the abandoned session to end',
      async () => {
        const { rows } = await observer.query(
          `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'held'`,
        );
        return rows.length === 0;
      },
      5_000,
    );
    // The pool no longer counts the abandoned connection (dropped once the server ended its
    // session): it closes without waiting for the stage.
    await waitFor(
      'the abandoned connection to leave the pool',
      async () => test.db.pool.totalCount - test.db.pool.idleCount === 0,
      2_000,
    );
  });

  it('never pools a connection it sent a cancel to: a late cancel cannot hit the next caller', async () => {
    // The cancel travels on its own connection and lands some time after the stage has let go;
    // here it is held back until the stage's connection could be serving someone else.
    let sendCancel!: () => void;
    const cancelMayGo = new Promise<void>((resolve) => (sendCancel = resolve));
    const slowInterrupts = Object.create(test.db, {
      interruptSessions: {
        value: async (backends: readonly number[], how: 'cancel' | 'terminate') => {
          await cancelMayGo;
          await test.db.interruptSessions!(backends, how);
        },
      },
    }) as typeof test.db;
    const controller = new AbortController();
    const db = createStageDatabase(slowInterrupts, {
      statementTimeoutMs: 60_000,
      signal: controller.signal,
      fence: async () => undefined,
    });
    let inside!: () => void;
    const stageInside = new Promise<void>((resolve) => (inside = resolve));
    let stagePid = 0;
    const stage = db.transaction(async (tx) => {
      stagePid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      inside();
      // Stage code waiting outside the database that stops at once when told to.
      await new Promise((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error)),
      );
    });
    await stageInside;
    controller.abort(new Error('shutting down'));
    await assert.rejects(stage, /shutting down/);

    const next = test.db.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.3)');
    await waitFor('the next statement to run', async () => (await running('SELECT pg_backend_pid()%')) === 1);
    sendCancel();
    const { rows } = await next;
    assert.notEqual(rows[0]!.pid, stagePid, 'the stage connection went back to the pool');
  });
});
