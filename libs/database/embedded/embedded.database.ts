import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { CopyLineCounter, CsvChunker, type FirstRecordLines } from '../csv-records.js';
import {
  assertTableName,
  copyColumns,
  type BulkLoader,
  type CopyTarget,
  type Database,
} from '../database.js';
import { DataDirLock } from './data-dir-lock.js';
import { copyTemplate } from './data-dir-template.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './pglite.worker.js';

export interface EmbeddedOptions {
  /** Folder holding the database files (created on first use). */
  dir: string;
  poolSize: number;
  /** Loopback port for the socket server; 0 picks a free one. */
  port?: number;
  /** Bytes per bulk-load chunk: PGlite's memory grows with the blob it copies from. */
  copyChunkBytes?: number;
  /** shared_buffers of the embedded server, in MB. */
  sharedBuffersMb?: number;
  /** The database files a fresh folder starts from (default: the build's, see data-dir-template.ts). */
  templateDir?: string;
}

/** An error raised by the embedded server, shaped like pg's DatabaseError so callers treat both alike. */
export class EmbeddedDatabaseError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly where?: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

class WorkerChannel {
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (rows: number) => void; reject: (e: Error) => void }
  >();
  private failure: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'done' || reply.type === 'failed') {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        if (reply.type === 'done') waiter?.resolve(reply.rows);
        else waiter?.reject(new EmbeddedDatabaseError(reply.message, reply.code, reply.where, reply.detail));
      } else if (reply.type === 'fatal') {
        this.failAll(new Error(`embedded database failed: ${reply.message}`));
      }
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`embedded database worker exited (${code})`)));
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  request(
    message: WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never,
    transfer: ArrayBuffer[] = [],
  ): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}

/**
 * COPY through PGlite's `/dev/blob`, one bounded chunk at a time. All socket connections share
 * one backend session, so the chunks land inside the transaction the caller opened on `client`.
 */
class EmbeddedBulkLoader implements BulkLoader {
  constructor(
    private readonly channel: WorkerChannel,
    private readonly chunkBytes: number,
  ) {}

  async copyCsv(_client: pg.PoolClient, target: CopyTarget, records: Readable): Promise<number> {
    const sql = `COPY ${assertTableName(target.table)} (${copyColumns(target.columns)}) FROM '/dev/blob' WITH (FORMAT csv)`;
    const chunks = new CsvChunker(this.chunkBytes);
    // pipeline, not pipe: a failing source must end the loop below with its error (pipe leaves
    // the chunker waiting forever and the error unhandled), and a failed COPY must close the source.
    pipeline(records, chunks, () => undefined);
    let rows = 0;
    const lines = new CopyLineCounter();
    for await (const chunk of chunks as AsyncIterable<Buffer>) {
      const linesBefore = lines.lines;
      const firstRecord = lines.feed(chunk);
      const copy = new Uint8Array(chunk.length);
      copy.set(chunk);
      try {
        rows += await this.channel.request({ type: 'copy', sql, data: copy }, [copy.buffer]);
      } catch (error) {
        throw renumberCopyLine(error, linesBefore, firstRecord);
      }
    }
    return rows;
  }
}

/**
 * Each chunk is a COPY of its own, so the server numbers its lines from 1 again, and numbers the
 * chunk's first record as if the input's line end were not yet known. Callers read the line in
 * `where` as one COPY FROM STDIN of the whole stream gives it, so it is renumbered that way.
 */
function renumberCopyLine(error: unknown, linesBefore: number, first: FirstRecordLines | null): unknown {
  if (!(error instanceof EmbeddedDatabaseError) || error.where === undefined || first === null) return error;
  const where = error.where.replace(/^(COPY [^,]+, line )(\d+)/, (_m, head: string, digits: string) => {
    const line = Number(digits);
    const inStream =
      line <= first.alone ? Math.min(line, first.inStream) : line - first.alone + first.inStream;
    return `${head}${linesBefore + inStream}`;
  });
  return new EmbeddedDatabaseError(error.message, error.code, where, error.detail);
}

/**
 * Creates the database files of a fresh folder: a copy of the build's template, or else PGlite's
 * initdb in a thread that then exits (see WorkerInit.initOnly). Either way into a scratch folder
 * first, so a start stopped half-way leaves no half-made database to open next time.
 */
async function createDataDir(init: WorkerInit, templateDir?: string): Promise<void> {
  if (existsSync(init.dataDir) && readdirSync(init.dataDir).length > 0) {
    throw new Error(
      `${init.dataDir} holds files but no database (no PG_VERSION): move it away, or point the data folder elsewhere`,
    );
  }
  const scratch = `${init.dataDir}.partial`;
  rmSync(scratch, { recursive: true, force: true });
  if (!copyTemplate(scratch, templateDir)) await initialiseDataDir({ ...init, dataDir: scratch });
  renameSync(scratch, init.dataDir);
}

/** Runs PGlite's initdb for `init.dataDir` in a worker thread of its own, which exits after it. */
export async function initialiseDataDir(init: WorkerInit): Promise<void> {
  const worker = new Worker(new URL('./pglite.worker.js', import.meta.url), {
    workerData: { ...init, initOnly: true } satisfies WorkerInit,
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await waitFor(worker, 'initialised');
  await exited;
}

function waitUntilReady(worker: Worker): Promise<number> {
  return waitFor(worker, 'ready');
}

function waitFor(worker: Worker, expected: 'ready' | 'initialised'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const settle = (): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    const onMessage = (reply: WorkerReply): void => {
      settle();
      if (reply.type === expected) resolve(reply.type === 'ready' ? reply.port : 0);
      else
        reject(
          new Error(
            `embedded database failed to start: ${reply.type === 'fatal' ? reply.message : reply.type}`,
          ),
        );
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    const onExit = (code: number): void => {
      settle();
      reject(new Error(`embedded database worker exited during start-up (${code})`));
    };
    // Not removeAllListeners(): Worker keeps its message port alive through its own listeners.
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

export class EmbeddedDatabase implements Database {
  readonly kind = 'embedded' as const;
  readonly description: string;

  private constructor(
    readonly pool: pg.Pool,
    readonly bulkLoader: BulkLoader,
    readonly clientConfig: pg.ClientConfig,
    private readonly worker: Worker,
    private readonly channel: WorkerChannel,
    private readonly lock: DataDirLock,
    dir: string,
  ) {
    this.description = `embedded PostgreSQL (PGlite) in ${dir}`;
  }

  static async open(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
    const lock = DataDirLock.acquire(options.dir);
    try {
      const init: WorkerInit = {
        dataDir: join(options.dir, 'pgdata'),
        port: options.port ?? 0,
        // Extra connections are refused, not queued: room for the pool, TypeORM and health checks.
        maxConnections: options.poolSize + 8,
        sharedBuffersMb: options.sharedBuffersMb ?? 32,
      };
      if (!existsSync(join(init.dataDir, 'PG_VERSION'))) await createDataDir(init, options.templateDir);
      const worker = new Worker(new URL('./pglite.worker.js', import.meta.url), { workerData: init });
      const port = await waitUntilReady(worker);
      const channel = new WorkerChannel(worker);
      const clientConfig: pg.ClientConfig = {
        host: '127.0.0.1',
        port,
        user: 'postgres',
        database: 'postgres',
        application_name: 'pipeline-daemon',
      };
      const pool = new pg.Pool({ ...clientConfig, max: options.poolSize });
      pool.on('error', () => undefined);
      const loader = new EmbeddedBulkLoader(channel, options.copyChunkBytes ?? 16 * 1024 * 1024);
      return new EmbeddedDatabase(pool, loader, clientConfig, worker, channel, lock, options.dir);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  async openDedicatedClient(): Promise<pg.Client> {
    const client = new pg.Client(this.clientConfig);
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async close(): Promise<void> {
    try {
      await this.pool.end();
      await this.channel.request({ type: 'close' });
    } finally {
      await this.worker.terminate();
      this.lock.release();
    }
  }
}
