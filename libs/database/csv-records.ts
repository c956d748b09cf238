import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Finds record boundaries in RFC 4180 CSV without parsing fields: a newline ends a record only
 * outside quotes (an escaped quote `""` toggles twice, so quote parity is enough). Runs at
 * memory-scan speed, so ingestion can count records and map them to physical lines while the
 * database does the parsing.
 */
export class CsvRecordScanner {
  private inQuotes = false;
  /** Complete records seen so far. */
  records = 0;
  /** Physical lines (LF) seen so far. */
  lines = 0;
  /** True when the last byte seen ended a record (or nothing was seen). */
  atRecordStart = true;

  /** Scans a chunk; returns the offset just past the last record boundary in it, or -1. */
  scan(chunk: Uint8Array): number {
    let lastBoundary = -1;
    let inQuotes = this.inQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) inQuotes = !inQuotes;
      else if (byte === LF) {
        this.lines++;
        if (!inQuotes) {
          this.records++;
          lastBoundary = i + 1;
        }
      }
    }
    this.inQuotes = inQuotes;
    if (chunk.length > 0) this.atRecordStart = lastBoundary === chunk.length;
    return lastBoundary;
  }

  get insideQuotes(): boolean {
    return this.inQuotes;
  }
}

/**
 * Re-chunks a CSV byte stream so that every emitted chunk ends on a record boundary and holds at
 * most about `maxBytes` (a single record larger than that is emitted whole). The embedded adapter
 * loads each chunk with one COPY, so memory stays bounded by the chunk size.
 */
export class CsvChunker extends Transform {
  private readonly scanner = new CsvRecordScanner();
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBytes: number) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      // Once over the limit, take the rest of the chunk: a huge record must not be scanned byte by byte.
      const room =
        this.pendingBytes >= this.maxBytes ? chunk.length - offset : this.maxBytes - this.pendingBytes;
      const piece = chunk.subarray(offset, Math.min(chunk.length, offset + room));
      const boundary = this.scanner.scan(piece);
      this.pending.push(piece);
      this.pendingBytes += piece.length;
      offset += piece.length;
      if (this.pendingBytes >= this.maxBytes && boundary !== -1) {
        const all = Buffer.concat(this.pending, this.pendingBytes);
        const cut = this.pendingBytes - piece.length + boundary;
        this.push(all.subarray(0, cut));
        const rest = all.subarray(cut);
        this.pending = rest.length ? [rest] : [];
        this.pendingBytes = rest.length;
      }
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingBytes > 0) this.push(Buffer.concat(this.pending, this.pendingBytes));
    done();
  }
}

/** How COPY numbers the first record of a chunk when it reads the chunk alone and when it reads the whole stream. */
export interface FirstRecordLines {
  readonly alone: number;
  readonly inStream: number;
}

/**
 * Follows the line number PostgreSQL's COPY reports (`cur_lineno`) over CSV input: one per record,
 * plus each newline inside quotes of the input's kind: CR in CRLF input and before the first record
 * has ended (the kind is not known yet), LF in LF input. A loader that COPYs a stream in chunks
 * uses it to report lines as one COPY of the whole stream would.
 */
export class CopyLineCounter {
  /** Lines COPY has counted for the chunks fed so far. */
  lines = 0;
  private lineEnd: 'unknown' | 'lf' | 'crlf' = 'unknown';

  /** Feeds a chunk that starts on a record boundary; returns how its first record is numbered. */
  feed(chunk: Uint8Array): FirstRecordLines | null {
    let inQuotes = false;
    let quotedCr = 0;
    let quotedLf = 0;
    let first: FirstRecordLines | null = null;
    const endRecord = (): void => {
      const counted = 1 + (this.lineEnd === 'lf' ? quotedLf : quotedCr);
      first ??= { alone: 1 + quotedCr, inStream: counted };
      this.lines += counted;
      quotedCr = quotedLf = 0;
    };
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) inQuotes = !inQuotes;
      else if (inQuotes) {
        if (byte === CR) quotedCr++;
        else if (byte === LF) quotedLf++;
      } else if (byte === LF) {
        endRecord();
        if (this.lineEnd === 'unknown') this.lineEnd = i > 0 && chunk[i - 1] === CR ? 'crlf' : 'lf';
      }
    }
    // A last record without a line end (the end of the stream) is still a line to COPY.
    if (chunk.length > 0 && chunk[chunk.length - 1] !== LF) endRecord();
    return first;
  }
}
