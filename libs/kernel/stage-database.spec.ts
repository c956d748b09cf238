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
});
