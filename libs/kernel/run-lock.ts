import type pg from 'pg';
import {
  LOCK_NAMESPACE,
  LockId,
  releaseAdvisoryLock,
  tryAdvisoryLock,
  type Database,
} from '../database/index.js';
import { FencedError } from './errors.js';
import type { StageTransaction } from './stage.js';

/** Holding the run lock: one run at a time across every replica. */
export interface RunLease {
  /** Aborted when the lock is lost (its connection died): the run must stop before its next commit. */
  readonly lost: AbortSignal;
  /** Throws `FencedError` unless the lock is still held; called inside each committing transaction. */
  fence(tx: StageTransaction): Promise<void>;
  release(): Promise<void>;
}

export interface RunLock {
  /** The lease, or null when another process holds the lock. */
  tryAcquire(): Promise<RunLease | null>;
}

/**
 * A PostgreSQL advisory lock on a dedicated connection (never from the pool) with short
 * keepalives. The lock dies with its connection, so a crashed holder never blocks the next day.
 */
export class AdvisoryRunLock implements RunLock {
  constructor(private readonly db: Database) {}

  async tryAcquire(): Promise<RunLease | null> {
    const client = await this.db.openDedicatedClient();
    let locked = false;
    try {
      locked = await tryAdvisoryLock(client, LockId.run);
    } finally {
      if (!locked) await client.end().catch(() => undefined);
    }
    if (!locked) return null;
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return new AdvisoryLease(client, rows[0]!.pid);
  }
}

class AdvisoryLease implements RunLease {
  private readonly controller = new AbortController();
  private released = false;

  constructor(
    private readonly client: pg.Client,
    private readonly pid: number,
  ) {
    const lose = (): void => {
      if (!this.released)
        this.controller.abort(new FencedError('lost the run lock: its database connection closed'));
    };
    client.on('error', lose);
    client.on('end', lose);
  }

  get lost(): AbortSignal {
    return this.controller.signal;
  }

  async fence(tx: StageTransaction): Promise<void> {
    if (this.controller.signal.aborted) throw this.controller.signal.reason as Error;
    // Asked inside the committing transaction: is the lock still granted to our lock connection?
    const { rows } = await tx.query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::int::oid
         AND objid = $2::int::oid AND objsubid = 2 AND pid = $3 AND granted) AS held`,
      [LOCK_NAMESPACE, LockId.run, this.pid],
    );
    if (!rows[0]?.held) {
      this.controller.abort(new FencedError('lost the run lock: another session may hold it now'));
      throw this.controller.signal.reason as Error;
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await releaseAdvisoryLock(this.client, LockId.run).catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}

/**
 * The embedded database shares one backend session among all connections, so an advisory lock
 * there excludes nobody. The data folder's lock file already keeps other processes out; within
 * the process, this mutex keeps runs apart.
 */
export class InProcessRunLock implements RunLock {
  private holder: InProcessLease | null = null;

  async tryAcquire(): Promise<RunLease | null> {
    if (this.holder) return null;
    const lease = new InProcessLease(() => {
      if (this.holder === lease) this.holder = null;
    });
    this.holder = lease;
    return lease;
  }
}

class InProcessLease implements RunLease {
  private readonly controller = new AbortController();
  private released = false;

  constructor(private readonly onRelease: () => void) {}

  get lost(): AbortSignal {
    return this.controller.signal;
  }

  async fence(): Promise<void> {
    if (this.released) throw new FencedError('the run lock was released');
  }

  async release(): Promise<void> {
    this.released = true;
    this.onRelease();
  }
}

/** One in-process lock per embedded database, however many kernels the process builds on it. */
const inProcessLocks = new WeakMap<Database, InProcessRunLock>();

export function runLockFor(db: Database): RunLock {
  if (db.kind === 'postgres') return new AdvisoryRunLock(db);
  let lock = inProcessLocks.get(db);
  if (!lock) {
    lock = new InProcessRunLock();
    inProcessLocks.set(db, lock);
  }
  return lock;
}
