import type { Readable, Writable } from 'node:stream';
import type pg from 'pg';
import type { CopyTarget, Database } from '../database/index.js';
import { FencedError } from './errors.js';
import type { StageDatabase, StageTransaction } from './stage.js';

/** Checks, inside the committing transaction, that the run may still commit; throws otherwise. */
export type FenceCheck = (tx: StageTransaction) => Promise<void>;

export interface StageDatabaseOptions {
  readonly statementTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly fence: FenceCheck;
  /**
   * The gate this stage runs alongside (`StageOptions.gatedBy`): every transaction waits for it
   * before COMMIT, and rolls back if it closes.
   */
  readonly gate?: Promise<void> | null;
}

/** The database as a stage sees it: plain queries, and transactions that are fenced before COMMIT. */
export function createStageDatabase(db: Database, options: StageDatabaseOptions): StageDatabase {
  const abortedError = (): FencedError =>
    new FencedError(`run aborted before commit: ${String(options.signal.reason ?? 'stopped')}`);

  return {
    kind: db.kind,
    query: <R extends pg.QueryResultRow>(sql: string, params?: readonly unknown[]) => {
      if (options.signal.aborted) return Promise.reject(abortedError());
      return db.pool.query<R>(sql, params as unknown[] | undefined);
    },
    async transaction<T>(work: (tx: StageTransaction) => Promise<T>): Promise<T> {
      if (options.signal.aborted) throw abortedError();
      const client = await db.pool.connect();
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
          client.query<R>(sql, params as unknown[] | undefined),
        copyCsv: (target: CopyTarget, records: Readable) => db.bulkLoader.copyCsv(client, target, records),
        ...(db.bulkLoader.copyCsvOut
          ? {
              copyCsvOut: (query: string, sink: Writable) => db.bulkLoader.copyCsvOut!(client, query, sink),
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
        client.release(broken ? true : undefined);
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
