import type { PGlite } from '@electric-sql/pglite';

/**
 * The order in which the embedded database's one session runs the protocol messages of the `pg`
 * connections that share it. It replaces pglite-socket's own queue, which takes messages one at
 * a time from any connection and keeps to one connection only inside a transaction
 * (electric-sql/pglite#1046): outside one, a parameterised query's Parse, Bind, Execute and Sync
 * from connection A could be split by connection B's Parse, which replaces the session's unnamed
 * statement, so A ran B's statement with A's parameters. A heartbeat's `UPDATE ... WHERE id = $1`
 * then reported no row (the run "taken away") while the run page polled `GET /runs`, and a query
 * could return another's rows. Here a connection keeps the session from its first extended-protocol
 * message to its Sync (or Query), as well as through a transaction.
 *
 * Also unlike the original, a failed message does not stop the queue for good (#1046's second
 * defect): it fails its own connection and the queue goes on.
 */
export class SessionQueue {
  private queue: Queued[] = [];
  private processing = false;
  /** The connection that holds the session: mid extended-protocol batch, or in a transaction. */
  private owner: number | null = null;
  private lastHandlerId: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A connection that went away gives the session back, rolling back what it left open. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner === handlerId || this.lastHandlerId === handlerId) {
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      this.owner = null;
      this.lastHandlerId = null;
    }
    await this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const holder = this.db.isInTransaction() ? this.lastHandlerId : this.owner;
        const index = holder === null ? 0 : this.queue.findIndex((q) => q.handlerId === holder);
        if (index === -1) return; // the holder's next message has not arrived yet
        const [next] = this.queue.splice(index, 1);
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(next!.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                next!.onData(data);
              },
            }),
          );
        } catch (error) {
          this.owner = null;
          next!.reject(error);
          continue;
        }
        this.lastHandlerId = next!.handlerId;
        this.owner = EXTENDED.has(next!.message[0]!) ? next!.handlerId : null;
        next!.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }
}

/** Extended-protocol messages that leave a batch open until its Sync: Parse, Bind, Describe, Execute, Close, Flush. */
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));

interface Queued {
  readonly handlerId: number;
  readonly message: Uint8Array;
  readonly onData: (data: Uint8Array) => void;
  readonly resolve: (bytes: number) => void;
  readonly reject: (error: unknown) => void;
}
