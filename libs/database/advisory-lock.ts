import type pg from 'pg';

/**
 * Advisory lock ids, named once. Both are in one key space (two-int form) so they never collide
 * with locks other applications take on a shared server.
 */
export const LOCK_NAMESPACE = 0x50_49_50_45; // "PIPE"
export const LockId = {
  /** Held for the whole of a pipeline run. */
  run: 1,
  /** Held while migrations are applied. */
  migrate: 2,
} as const;

type Queryable = Pick<pg.ClientBase, 'query'>;

export async function tryAdvisoryLock(client: Queryable, id: number): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
    LOCK_NAMESPACE,
    id,
  ]);
  return rows[0]?.locked === true;
}

export async function releaseAdvisoryLock(client: Queryable, id: number): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, id]);
}

/** Waits for the lock, runs `fn`, and always releases in `finally`. */
export async function withAdvisoryLock<T>(client: Queryable, id: number, fn: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_NAMESPACE, id]);
  try {
    return await fn();
  } finally {
    await releaseAdvisoryLock(client, id).catch(() => undefined);
  }
}
