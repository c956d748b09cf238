import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { formatId, ID_WIDTH } from './csv-format.js';
import type { DataGenerationSettings } from './data-generation.config.js';
import type { CustomerSnapshot, ProductSnapshot, ReferenceCheck, TransactionChunk } from './sales.js';
import type { Vocabulary } from './vocabulary.js';

/**
 * Below this many transactions the main thread generates them whatever the setting: each worker
 * spends its first few chunks warming up its compiler, about 0.4 s, which 100,000 transactions
 * did not win back on two cores (measured in the README).
 */
export const MIN_TRANSACTIONS_FOR_WORKERS = 150_000;
/**
 * `workers: auto` uses one worker per core up to this: each worker adds about 30 MB to the peak
 * resident memory, and two already halve the time on the two cores the memory budget of issue 7
 * was set for. More can be asked for in the setting.
 */
export const MAX_AUTO_WORKERS = 2;

/** The workers to start: none for a small data set, else the setting (`auto`: one per usable core, capped). */
export function workersFor(
  setting: number | 'auto',
  transactions: number,
  minTransactions = MIN_TRANSACTIONS_FOR_WORKERS,
): number {
  if (transactions < minTransactions) return 0;
  if (setting !== 'auto') return setting;
  const cores = usableCores();
  return cores < 2 ? 0 : Math.min(cores, MAX_AUTO_WORKERS);
}

/**
 * Whole cores this process may use. `availableParallelism()` sees the CPU affinity but not a
 * container's CPU quota (libuv 1.46), and the Kubernetes deployment gives the daemon one CPU:
 * two workers there would only be throttled.
 */
function usableCores(): number {
  const cores = availableParallelism();
  const quota = cpuQuotaOf(readOrNull('/sys/fs/cgroup/cpu.max'));
  return quota === null ? cores : Math.max(1, Math.min(cores, Math.floor(quota)));
}

/** CPUs granted by a cgroup v2 `cpu.max` (`"<quota> <period>"`, `"max <period>"`: none), or null. */
export function cpuQuotaOf(cpuMax: string | null): number | null {
  const match = /^(\d+|max)\s+(\d+)\s*$/.exec(cpuMax ?? '');
  if (!match || match[1] === 'max' || Number(match[2]) === 0) return null;
  return Number(match[1]) / Number(match[2]);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** What every worker gets once, at start: all it needs to write any chunk. */
export interface WorkerSetup {
  readonly settings: DataGenerationSettings;
  readonly vocabulary: Vocabulary;
  /** Backed by SharedArrayBuffers: the workers read the main thread's snapshot, no copy each. */
  readonly customers: CustomerSnapshot;
  readonly products: ProductSnapshot;
  /** 0 in full mode; in daily mode the run date's day after the full range. */
  readonly dayOffset: number;
}

/** A chunk to generate, with up to two written-out buffers for the worker to fill again. */
export interface ChunkTask {
  readonly chunk: TransactionChunk;
  readonly buffers: readonly ArrayBuffer[];
}

/** One file's lines of one chunk: UTF-8 in `buffer[0 .. length)`. */
export interface EncodedLines {
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly rows: number;
}

/** A worker's answer for one chunk; its buffers are transferred, not copied. */
export interface GeneratedChunk {
  readonly index: number;
  readonly transactions: EncodedLines;
  readonly items: EncodedLines;
  readonly check: ReferenceCheck;
}

/**
 * Each worker's heap. The old generation holds little more than the vocabulary (a chunk's bytes
 * live outside the heap), so its limit is a guard. The young generation would grow to 48 MB per
 * worker on a 64-bit machine; 16 MB took 15-25 MB off the peak resident memory of a
 * 1M-transaction run with two workers (about 215 MB instead of 240) for up to a tenth more time
 * (best of three 3.98 s instead of 3.48 s, medians equal). It is that cheap only because every
 * line is garbage by the next scavenge (see ChunkBytes in the worker).
 */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = {
  maxOldGenerationSizeMb: 64,
  maxYoungGenerationSizeMb: 16,
};

export interface ChunkWorkersOptions {
  readonly count: number;
  readonly setup: WorkerSetup;
  /** The chunks in file order (indices 0, 1, 2, ...). */
  readonly chunks: Iterable<TransactionChunk>;
  /** Chunks handed out and not yet written: bounds the bytes held in memory at once. */
  readonly maxInFlight: number;
  readonly signal: AbortSignal;
  readonly resourceLimits: ResourceLimits;
  /** Called once per worker started (tests watch the threads through it). */
  readonly onWorker?: (worker: Worker) => void;
  /**
   * Writes one chunk's bytes; called in chunk order, one chunk at a time. Its buffers go back to
   * the workers once the promise resolves, so the bytes must be on their way to disk by then.
   */
  readonly write: (chunk: TransactionChunk, generated: GeneratedChunk) => Promise<void>;
}

const WORKER_URL = new URL('./transaction-chunk.worker.js', import.meta.url);

/**
 * Generates the chunks in `count` worker threads and hands their bytes to `write` in file order.
 * A worker that finishes early gets the next chunk as long as fewer than `maxInFlight` chunks are
 * waiting to be written (backpressure: a slow disk holds the workers back instead of filling
 * memory), and written buffers go back to the workers (the main thread allocates so little that
 * its collector would otherwise leave tens of megabytes of dead chunks about). Abort, a worker's
 * error or a failed write terminates every worker at once and rejects; every worker has exited
 * when this settles.
 */
export async function generateChunksInWorkers(options: ChunkWorkersOptions): Promise<void> {
  const { count, setup, signal, maxInFlight, write } = options;
  signal.throwIfAborted();
  const workers: Worker[] = [];
  const idle: Worker[] = [];
  const generating = new Map<Worker, TransactionChunk>();
  const generated = new Map<number, { chunk: TransactionChunk; result: GeneratedChunk }>();
  const reusable: ArrayBuffer[] = [];
  let failure = null as { error: unknown } | null;
  let settled = false;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  const fail = (error: unknown) => {
    failure ??= { error };
    for (const worker of workers) void worker.terminate();
    notify();
  };
  const onAbort = () => fail(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });

  try {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(WORKER_URL, { workerData: setup, resourceLimits: options.resourceLimits });
      worker.on('message', (result: GeneratedChunk) => {
        const chunk = generating.get(worker)!;
        generating.delete(worker);
        idle.push(worker);
        generated.set(chunk.index, { chunk, result });
        notify();
      });
      worker.on('error', (error: unknown) => {
        const chunk = generating.get(worker);
        const what = chunk
          ? `transaction chunk ${chunk.index} (from ${formatId('TXN', chunk.firstTransaction + 1, ID_WIDTH.transaction)})`
          : 'transactions';
        const reason = error instanceof Error ? error.message : String(error);
        fail(new Error(`data-generation: the worker generating ${what} failed: ${reason}`, { cause: error }));
      });
      worker.on('messageerror', (error: Error) => fail(error));
      worker.on('exit', (code) => {
        if (!settled)
          fail(new Error(`data-generation: a generation worker exited unexpectedly (code ${code})`));
      });
      workers.push(worker);
      idle.push(worker);
      options.onWorker?.(worker);
    }

    const pending = options.chunks[Symbol.iterator]();
    let exhausted = false;
    let handedOut = 0;
    let written = 0;
    for (;;) {
      if (failure) throw failure.error;
      while (!exhausted && idle.length > 0 && handedOut - written < maxInFlight) {
        const next = pending.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        const worker = idle.pop()!;
        generating.set(worker, next.value);
        const task: ChunkTask = { chunk: next.value, buffers: reusable.splice(-2) };
        worker.postMessage(task, [...task.buffers]);
        handedOut++;
      }
      const ready = generated.get(written);
      if (ready) {
        generated.delete(written);
        await write(ready.chunk, ready.result);
        reusable.push(ready.result.transactions.buffer, ready.result.items.buffer);
        written++;
      } else if (exhausted && written === handedOut) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    settled = true;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
