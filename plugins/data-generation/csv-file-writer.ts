import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';

/**
 * Lines are gathered into batches of about this many characters before they are encoded. Small on
 * purpose: the pending line strings must die young. With 1 Mi-character batches they survived into
 * the old generation and garbage collection dominated the run (100k transactions, measured: about
 * 1 s at 32 Ki, 2.9 s at 256 Ki, 4.2-5.6 s at 1 Mi, 2.5 s of it in the collector).
 */
const BATCH_CHARS = 1 << 15;
// The file stream queues one batch before `flush()` waits: a 1 MiB queue measured no faster and
// raised the peak RSS of a 1M-transaction run from 120 MB to 177 MB.

export interface WrittenFile {
  readonly name: string;
  /** Data rows, header excluded. */
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Writes one CSV file to `<name>.tmp` in batches, honouring the stream's backpressure, and
 * hashes the bytes on the way. Nothing appears under the real name until `commit()`, so a reader
 * never sees a half-written file and a failed run leaves the previous files in place.
 *
 * Callers add lines synchronously (fast) and `await flush()` only when `add` says the batch is
 * full, which keeps the number of awaited promises to one per 32 Ki characters; or they `write()`
 * lines a worker has already encoded.
 */
export class CsvFileWriter {
  private buffer = '';
  private rowCount = 0;
  private byteCount = 0;
  private readonly hash: Hash = createHash('sha256');
  private result: WrittenFile | null = null;
  private failure: Error | null = null;

  private constructor(
    readonly name: string,
    private readonly path: string,
    private readonly stream: WriteStream,
  ) {
    // Remembered, not thrown: an error between two awaits must fail the run, not the process.
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  static open(dir: string, name: string, header: readonly string[]): CsvFileWriter {
    const path = join(dir, name);
    // `flush: true` fsyncs before close, so the rename that follows publishes durable bytes.
    const stream = createWriteStream(`${path}.tmp`, { highWaterMark: BATCH_CHARS, flush: true });
    const writer = new CsvFileWriter(name, path, stream);
    writer.buffer = header.join(',') + '\n';
    return writer;
  }

  /** Adds one data row (a line without its line end); true when the caller should `flush()`. */
  add(line: string): boolean {
    this.buffer += line + '\n';
    this.rowCount++;
    return this.buffer.length >= BATCH_CHARS;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.buffer.length === 0) return;
    const bytes = Buffer.from(this.buffer, 'utf8');
    this.buffer = '';
    this.hash.update(bytes);
    this.byteCount += bytes.length;
    if (!this.stream.write(bytes)) await once(this.stream, 'drain');
  }

  /**
   * Appends `rows` whole lines encoded elsewhere (a worker's chunk), after the lines added before.
   * Resolves once the bytes are written, so the caller may reuse their buffer.
   */
  async write(bytes: Uint8Array, rows: number): Promise<void> {
    await this.flush();
    if (this.failure) throw this.failure;
    this.hash.update(bytes);
    this.byteCount += bytes.length;
    this.rowCount += rows;
    await new Promise<void>((resolve, reject) =>
      this.stream.write(bytes, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Writes what is left and closes the temporary file. */
  async finish(): Promise<WrittenFile> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
    if (this.failure) throw this.failure;
    this.result = {
      name: this.name,
      rows: this.rowCount,
      bytes: this.byteCount,
      sha256: this.hash.digest('hex'),
    };
    return this.result;
  }

  /** Publishes the finished file under its real name (an atomic rename on one file system). */
  async commit(): Promise<void> {
    if (!this.result) throw new Error(`${this.name}: commit() before finish()`);
    await rename(`${this.path}.tmp`, this.path);
  }

  /** Abandons the file: closes the stream if needed and removes the temporary file. */
  async discard(): Promise<void> {
    if (!this.stream.closed) {
      this.stream.destroy();
      await finished(this.stream).catch(() => undefined);
    }
    await rm(`${this.path}.tmp`, { force: true });
  }
}
