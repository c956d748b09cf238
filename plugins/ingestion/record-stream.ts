import { Transform, type TransformCallback } from 'node:stream';
import { CsvRecordScanner } from '../../libs/database/index.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from('\r\n');

/** The physical lines of a file that one CSV record occupies (more than one after a quoted newline). */
export interface LineSpan {
  readonly first: number;
  readonly last: number;
}

/**
 * Maps CSV records to the physical lines of the file while the bytes stream past, and holds every
 * record to the line end the header uses: COPY takes its line end from the first line it reads
 * and the embedded loader COPYs in chunks, so a file that mixes them would fail on one database and
 * load on the other. Only records that span several lines (a quoted newline) are remembered, so
 * memory stays small; a chunk without a quoted newline costs one scanner pass and one search.
 */
export class RecordLineIndex {
  private readonly scanner = new CsvRecordScanner();
  /** [first, last] line pairs of the records that span several lines, in file order. */
  private readonly multiLine: number[] = [];
  /** The line where the record not yet ended began. */
  private openRecordLine: number;
  /** The byte before the current chunk (the header's line feed at first). */
  private lastByte = LF;

  /**
   * `firstLine`: the file line of the first byte fed (2 when the header line was read apart);
   * `crlf`: whether records end with CRLF (as the header line does) rather than LF.
   */
  constructor(
    private readonly firstLine: number,
    private readonly crlf: boolean,
  ) {
    this.openRecordLine = firstLine;
  }

  /** Records ended by a newline so far. */
  get records(): number {
    return this.scanner.records;
  }

  get insideQuotes(): boolean {
    return this.scanner.insideQuotes;
  }

  /** The line where the record still open (at end of input: the unterminated one) began. */
  get openRecordStart(): number {
    return this.openRecordLine;
  }

  /** Throws `MixedLineEndsError` at the first record whose line end differs from the header's. */
  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const linesBefore = this.scanner.lines;
    const quotedBefore = this.scanner.insideQuotes;
    const recordsBefore = this.scanner.records;
    this.scanner.scan(chunk);
    const newRecords = this.scanner.records - recordsBefore;
    const newLines = this.scanner.lines - linesBefore;
    // Without a quoted newline, every line feed here ends a record: checks on the whole chunk suffice.
    if (newLines === newRecords && this.lineEndsAgree(chunk, newRecords)) {
      if (newRecords > 0) {
        this.endRecord(this.firstLine + linesBefore);
        this.openRecordLine = this.firstLine + this.scanner.lines;
      }
    } else {
      let inQuotes = quotedBefore;
      let line = this.firstLine + linesBefore;
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (byte === QUOTE) inQuotes = !inQuotes;
        else if (byte === LF) {
          if (!inQuotes) {
            if (((i > 0 ? chunk[i - 1] : this.lastByte) === CR) !== this.crlf)
              throw new MixedLineEndsError(line, this.crlf);
            this.endRecord(line);
            this.openRecordLine = line + 1;
          }
          line++;
        }
      }
    }
    this.lastByte = chunk[chunk.length - 1]!;
  }

  private lineEndsAgree(chunk: Uint8Array, recordEnds: number): boolean {
    if (recordEnds === 0) return true;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const pairAcrossChunks = this.lastByte === CR && bytes[0] === LF;
    if (!this.crlf) return !pairAcrossChunks && bytes.indexOf(CR) === -1;
    let pairs = pairAcrossChunks ? 1 : 0;
    for (let at = bytes.indexOf(CRLF); at !== -1; at = bytes.indexOf(CRLF, at + 2)) pairs++;
    return pairs === recordEnds;
  }

  private endRecord(lastLine: number): void {
    if (this.openRecordLine < lastLine) this.multiLine.push(this.openRecordLine, lastLine);
  }

  /** The record that occupies file line `line` (a record that ends there, or spans it). */
  spanAt(line: number): LineSpan {
    const pairs = this.multiLine;
    let low = 0;
    let high = pairs.length / 2 - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (pairs[mid * 2]! <= line) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found !== -1 && line <= pairs[found * 2 + 1]!)
      return { first: pairs[found * 2]!, last: pairs[found * 2 + 1]! };
    return { first: line, last: line };
  }
}

/** Thrown when a record ends with another line end than the header line. */
export class MixedLineEndsError extends Error {
  override name = 'MixedLineEndsError';
  constructor(
    readonly line: number,
    crlf: boolean,
  ) {
    super(
      `the line ends with ${crlf ? 'LF' : 'CRLF'}, but the header line ends with ${crlf ? 'CRLF' : 'LF'} (use one kind throughout the file)`,
    );
  }
}

/** Thrown when the input ends inside a quoted field. */
export class UnterminatedQuoteError extends Error {
  override name = 'UnterminatedQuoteError';
  constructor(readonly line: number) {
    super('unterminated quoted field: the record that begins here runs to the end of the file');
  }
}

/**
 * Passes the data part of a CSV file (header already read) through unchanged, except for empty
 * lines at the very end, which it drops: editors and some tools append them, and COPY would read
 * each as a record with missing columns. Meanwhile it counts records and indexes their lines
 * without parsing a field, so the database does the parsing and this costs one byte scan.
 */
export class StagingRecordStream extends Transform {
  readonly index: RecordLineIndex;
  /** Line ends seen at the end of the input so far, held back until data follows them. */
  private held: Buffer[] = [];
  private sentBytes = 0;
  private heldLineFeeds = 0;

  constructor(firstLine: number, crlf: boolean) {
    super();
    this.index = new RecordLineIndex(firstLine, crlf);
  }

  /** Records sent on to the database; final once the stream has ended. */
  get records(): number {
    if (this.sentBytes === 0) return 0;
    // What was sent never ends in a line end (they are held back), so its last record has no newline.
    return this.index.records - this.heldLineFeeds + 1;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.index.feed(chunk);
    } catch (error) {
      done(error as Error);
      return;
    }
    let end = chunk.length;
    // Line ends inside a quoted field are data, never trailing blank lines.
    if (!this.index.insideQuotes) {
      while (end > 0 && (chunk[end - 1] === LF || chunk[end - 1] === CR)) end--;
    }
    if (end > 0) {
      for (const piece of this.held) this.send(piece);
      this.held = [];
      this.heldLineFeeds = 0;
      this.send(end === chunk.length ? chunk : chunk.subarray(0, end));
    }
    if (end < chunk.length) {
      const tail = chunk.subarray(end);
      this.held.push(tail);
      for (const byte of tail) if (byte === LF) this.heldLineFeeds++;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.index.insideQuotes) {
      done(new UnterminatedQuoteError(this.index.openRecordStart));
      return;
    }
    done();
  }

  private send(piece: Buffer): void {
    this.sentBytes += piece.length;
    this.push(piece);
  }
}
