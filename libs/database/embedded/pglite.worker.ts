/**
 * Owns the embedded PostgreSQL (PGlite). It runs in a worker thread so that a long statement
 * never blocks the daemon's event loop (HTTP stays responsive), and serves the `pg` driver
 * through pglite-socket on loopback. Bulk loads arrive as messages because COPY FROM STDIN
 * over the socket breaks the protocol (pglite#911); PGlite's `/dev/blob` COPY works.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { SessionQueue } from './session-queue.js';

export interface WorkerInit {
  dataDir: string;
  port: number;
  maxConnections: number;
  /** shared_buffers in MB: PGlite's default (128) is most of its resident memory. */
  sharedBuffersMb: number;
  /**
   * Create the database files, close and exit. initdb's WebAssembly memory (about 550 MB) stays
   * mapped for the life of the thread that ran it, so a fresh folder is initialised in a thread of
   * its own, which exits and returns it, before the serving thread opens the files.
   */
  initOnly?: boolean;
}

export type WorkerRequest =
  { type: 'copy'; id: number; sql: string; data: Uint8Array } | { type: 'close'; id: number };

export type WorkerReply =
  | { type: 'ready'; port: number }
  | { type: 'initialised' }
  | { type: 'done'; id: number; rows: number }
  | { type: 'failed'; id: number; message: string; code?: string; where?: string; detail?: string }
  | { type: 'fatal'; message: string };

const port = parentPort!;
const init = workerData as WorkerInit;

async function main(): Promise<void> {
  const db = await PGlite.create({
    dataDir: init.dataDir,
    postgresqlconf: [`shared_buffers = ${init.sharedBuffersMb}MB`],
  });
  if (init.initOnly) {
    await db.close();
    port.postMessage({ type: 'initialised' } satisfies WorkerReply);
    return;
  }
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: init.port,
    maxConnections: init.maxConnections,
  });
  // pglite-socket interleaves the messages of parameterised queries from different connections
  // (session-queue.ts); its handlers take the server's queue when they connect, so this one is
  // put in before the first connection.
  (server as unknown as { queryQueue: SessionQueue }).queryQueue = new SessionQueue(db);
  await server.start();
  const address = server.getServerConn();
  port.postMessage({ type: 'ready', port: Number(address.split(':').pop()) } satisfies WorkerReply);

  port.on('message', (request: WorkerRequest) => {
    void handle(request);
  });

  async function handle(request: WorkerRequest): Promise<void> {
    try {
      if (request.type === 'copy') {
        const result = await db.query(request.sql, [], { blob: new Blob([request.data]) });
        port.postMessage({
          type: 'done',
          id: request.id,
          rows: result.affectedRows ?? 0,
        } satisfies WorkerReply);
      } else {
        await server.stop();
        await db.close();
        port.postMessage({ type: 'done', id: request.id, rows: 0 } satisfies WorkerReply);
      }
    } catch (error) {
      const e = error as Error & { code?: string; where?: string; detail?: string };
      port.postMessage({
        type: 'failed',
        id: request.id,
        message: e.message,
        code: e.code,
        where: e.where,
        detail: e.detail,
      } satisfies WorkerReply);
    }
  }
}

main().catch((error: unknown) => {
  port.postMessage({
    type: 'fatal',
    message: (error as Error).message ?? String(error),
  } satisfies WorkerReply);
});
