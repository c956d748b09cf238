import type { Readable, Writable } from 'node:stream';
import type pg from 'pg';
import type { CopyTarget, Database } from '../database/index.js';
import { FencedError } from './errors.js';
import type { StageDatabase, StageTransaction } from './stage.js';

/** Checks, inside the committing transaction, that the run may still commit; throws otherwise. */
export type FenceCheck = (tx: StageTransaction) => Promise<void>;

export interface StageDatabaseOptions {
  readonly statementTimeoutMs: number;
  /** The pool's size (`database.pool_size`); 1 when unknown. */
  readonly connections?: number;
  readonly signal: AbortSignal;
  readonly fence: FenceCheck;
  /**
   * The gate this stage runs alongside (`StageOptions.gatedBy`): every transaction waits for it
   * before COMMIT, and rolls back if it closes.
   */
  readonly gate?: Promise<void> | null;
  /**
   * How long after `signal` aborts a connection the stage still holds is left to it; then the
   * session is terminated on the server and the connection dropped from the pool. Unset: never.
   */
  readonly abandonAfterMs?: number;
  /** Told when interrupting the stage's sessions on the server failed. */
  readonly onInterruptFailed?: (error: Error) => void;
}

/** The process id of the server session behind a pooled connection (set once it connected). */
const backendOf = (client: pg.PoolClient): number | null =>
  (client as pg.PoolClient & { processID?: number | null }).processID ?? null;

/**
 * The pooled connections one stage attempt holds. When the attempt is told to stop (timeout,
 * shutdown, lost lock, closed gate), the statements they run are cancelled on the server at once,
 * so a stage in a long statement or a lock wait stops now instead of when the statement ends. A
 * connection the stage still holds `abandonAfterMs` later (its code is stuck elsewhere) is
 * terminated on the server and dropped from the pool: nothing an abandoned attempt began outlives
 * it, no transaction holding locks, no pool that cannot close. Only where the database can
 * interrupt its sessions (PostgreSQL); the embedded database has one shared session.
 */
class AttemptSessions {
  private readonly held = new Set<pg.PoolClient>();
  /**
   * Connections a cancel was sent to. The cancel reaches the server some time later; a connection
   * back in the pool by then would have it land on another caller's statement (the run's own
   * end record, say). Such a connection is closed when released, never pooled.
   */
  private readonly interrupted = new WeakSet<pg.PoolClient>();
  private abandonTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: StageDatabaseOptions,
  ) {
    if (!db.interruptSessions) return;
    const onAbort = (): void => this.interrupt();
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }

  async checkout(aborted: () => Error): Promise<pg.PoolClient> {
    if (this.options.signal.aborted) throw aborted();
    const client = await this.db.pool.connect();
    if (this.options.signal.aborted) {
      client.release();
      throw aborted();
    }
    this.held.add(client);
    return client;
  }

  /** Back to the pool (`destroy`: closed instead), unless it was dropped as abandoned already. */
  release(client: pg.PoolClient, destroy = false): void {
    if (!this.held.delete(client)) return;
    client.release(destroy || this.interrupted.has(client) || undefined);
    if (this.held.size === 0) clearTimeout(this.abandonTimer);
  }

  private interrupt(): void {
    if (this.held.size === 0) return;
    for (const client of this.held) this.interrupted.add(client);
    void this.call('cancel', [...this.held]);
    if (this.options.abandonAfterMs === undefined) return;
    // unref: a process that has nothing else left to do exits without waiting for this.
    this.abandonTimer = setTimeout(() => this.abandon(), this.options.abandonAfterMs).unref();
  }

  private abandon(): void {
    const clients = [...this.held];
    this.held.clear();
    if (clients.length === 0) return;
    void this.call('terminate', clients).finally(() => {
      for (const client of clients) client.release(new Error('abandoned by a stage told to stop'));
    });
  }

  private call(how: 'cancel' | 'terminate', clients: readonly pg.PoolClient[]): Promise<void> {
    const backends = clients.map(backendOf).filter((pid): pid is number => pid !== null);
    return this.db.interruptSessions!(backends, how).catch((error: unknown) =>
      this.options.onInterruptFailed?.(error instanceof Error ? error : new Error(String(error))),
    );
  }
}

/** The database as a stage sees it: plain queries, and transactions that are fenced before COMMIT. */
export function createStageDatabase(db: Database, options: StageDatabaseOptions): StageDatabase {
  const abortedError = (): FencedError =>
    new FencedError(`run aborted before commit: ${String(options.signal.reason ?? 'stopped')}`);
  const sessions = new AttemptSessions(db, options);
  // Once the stage is told to stop it starts no statement; what runs is cancelled (above).
  const unlessAborted = <T>(work: () => Promise<T>): Promise<T> =>
    options.signal.aborted ? Promise.reject(abortedError()) : work();

  return {
    kind: db.kind,
    connections: options.connections ?? 1,
    async query<R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]) {
      const client = await sessions.checkout(abortedError);
      let failed = false;
      try {
        return await client.query<R>(sql, params as unknown[] | undefined);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        // As pg's pool.query does: a connection whose statement failed is closed, not pooled.
        sessions.release(client, failed);
      }
    },
    async transaction<T>(work: (tx: StageTransaction) => Promise<T>): Promise<T> {
      const client = await sessions.checkout(abortedError);
      let broken = false;
      // The pool listens for errors only on idle clients. A checked-out connection that the
      // server terminates (failover, restart, pg_terminate_backend) while the stage works or
      // waits emits 'error'; unheard, that crashes the process instead of failing the attempt.
      // The next query on it rejects anyway, so the attempt fails and is retried.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      const tx: StageTransaction = {
        query: <R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]) =>
          unlessAborted(() => client.query<R>(sql, params as unknown[] | undefined)),
        copyCsv: (target: CopyTarget, records: Readable) =>
          unlessAborted(() => db.bulkLoader.copyCsv(client, target, records)),
        ...(db.bulkLoader.copyCsvOut
          ? {
              copyCsvOut: (query: string, sink: Writable) =>
                unlessAborted(() => db.bulkLoader.copyCsvOut!(client, query, sink)),
            }
          : {}),
      };
      try {
        await client.query('BEGIN');
        if (db.kind === 'postgres' && options.statementTimeoutMs > 0) {
          await client.query(`SET LOCAL statement_timeout = ${Math.floor(options.statementTimeoutMs)}`);
        }
        const result = await work(tx);
        if (options.gate) await untilAborted(options.gate, options.signal, abortedError);
        if (options.signal.aborted) throw abortedError();
        await options.fence(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!broken)
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
        throw error;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: drop it instead of pooling it.
        client.off('error', onError);
        sessions.release(client, broken);
      }
    },
  };
}

/** `promise`, or the aborted error as soon as `signal` aborts, whichever comes first. */
async function untilAborted(
  promise: Promise<void>,
  signal: AbortSignal,
  abortedError: () => Error,
): Promise<void> {
  if (signal.aborted) throw abortedError();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
