/**
 * A generation worker: writes the transaction chunks it is handed into UTF-8 bytes and sends them
 * back (transferred, not copied). It keeps no state between chunks, so which worker gets which
 * chunk never shows in the files.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chunkRandom, SalesCalendar, TransactionWriter, type LineSink } from './sales.js';
import type { ChunkTask, EncodedLines, GeneratedChunk, WorkerSetup } from './transaction-workers.js';

const LINE_FEED = 0x0a;
/** A new output buffer's size; buffers grow to the largest chunk and are then reused. */
const FIRST_BUFFER_BYTES = 1 << 20;

/**
 * One file's lines of one chunk, each encoded into the buffer as soon as it is made, so that no
 * line outlives the next scavenge: with lines gathered into 32 Ki-character strings first (as the
 * main thread does), those strings survived scavenges and the workers' small young generation
 * (see WORKER_RESOURCE_LIMITS) cost about a fifth more time. The buffer is one the main thread
 * handed back after writing its bytes: a fresh buffer per chunk left tens of megabytes waiting
 * for the collector.
 */
class ChunkBytes implements LineSink {
  private encoded = Buffer.alloc(0);
  private length = 0;
  private rows = 0;

  /** Starts a chunk in `reused` (a buffer the main thread is done with) or in a new buffer. */
  begin(reused: ArrayBuffer | undefined): void {
    this.encoded = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(FIRST_BUFFER_BYTES);
    this.length = 0;
    this.rows = 0;
  }

  add(line: string): boolean {
    // UTF-8 takes at most three bytes per UTF-16 code unit, plus the line end.
    const needed = this.length + line.length * 3 + 1;
    if (needed > this.encoded.length) {
      // allocUnsafeSlow: a buffer of its own, never Node's shared pool, which must not be transferred.
      const larger = Buffer.allocUnsafeSlow(Math.max(needed, Math.ceil(this.encoded.length * 1.5)));
      this.encoded.copy(larger, 0, 0, this.length);
      this.encoded = larger;
    }
    this.length += this.encoded.write(line, this.length);
    this.encoded[this.length++] = LINE_FEED;
    this.rows++;
    return false;
  }

  flush(): void {}

  finish(): EncodedLines {
    return { buffer: this.encoded.buffer as ArrayBuffer, length: this.length, rows: this.rows };
  }
}

const setup = workerData as WorkerSetup;
const port = parentPort!;
const transactions = new ChunkBytes();
const items = new ChunkBytes();
const writer = new TransactionWriter({
  settings: setup.settings,
  vocabulary: setup.vocabulary,
  calendar: new SalesCalendar(setup.settings),
  customers: setup.customers,
  products: setup.products,
  transactions,
  items,
});

async function generate({ chunk, buffers }: ChunkTask): Promise<void> {
  transactions.begin(buffers[0]);
  items.begin(buffers[1]);
  const check = await writer.writeChunk(
    chunk,
    chunkRandom(setup.settings.seed, setup.dayOffset, chunk.index),
  );
  const result: GeneratedChunk = {
    index: chunk.index,
    transactions: transactions.finish(),
    items: items.finish(),
    check,
  };
  port.postMessage(result, [result.transactions.buffer, result.items.buffer]);
}

// A failure is rethrown out of the handler: it ends the worker with an 'error' event, which the
// main thread turns into the stage's error.
port.on('message', (task: ChunkTask) => {
  generate(task).catch((error: unknown) => {
    throw error;
  });
});
