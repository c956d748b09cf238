import { Transform, type TransformCallback } from 'node:stream';
import { CsvRecordScanner } from '@pipeline/kernel';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** The physical lines of a file that one CSV record occupies (more than one after a quoted newline). */
export interface LineSpan {
  readonly first: number;
  readonly last: number;
}

/**
 * Maps the line numbers COPY reports to the physical lines of the file while the bytes stream
 * past, and holds every record to the line end the header uses: COPY takes its line end from the
 * first line it reads and the embedded loader COPYs in chunks, so a file that mixes them would fail
 * on one database and load on the other.
 *
 * COPY's line number is not a physical line: it counts one per record plus, inside quotes, each
 * newline of the file's kind (CR in CRLF files; before the first record has ended, when the kind is
 * not known yet, CR too). So a quoted LF in a CRLF file, or one in the first record, leaves the two
 * apart. Only records where either count exceeds one are remembered, so memory stays small; a
 * chunk without newlines inside quotes costs one scanner pass and one search.
 */
export class RecordLineIndex {
  private readonly scanner = new CsvRecordScanner();
  /** [copyFirst, copyLast, first, last] of each record spanning several lines, in file order. */
  private readonly irregular: number[] = [];
  /** The next line, physical and as COPY counts it (in file terms: both start on the first data line). */
  private line: number;
  private copyLine: number;
  /** Where the record not yet ended began, in both counts. */
  private openLine: number;
  private openCopyLine: number;
  /** Whether a record has ended, which tells COPY the file's kind of line end. */
  private lineEndKnown = false;
  /** The byte before the current chunk (the header's line feed at first). */
  private lastByte = LF;
  /** The chunk before ended with a CR outside quotes: the next byte must be its LF. */
  private crBeforeChunk = false;

  /**
   * `firstLine`: the file line of the first byte fed (2 when the header line was read apart);
   * `crlf`: whether records end with CRLF (as the header line does) rather than LF.
   */
  constructor(
    firstLine: number,
    private readonly crlf: boolean,
  ) {
    this.line = this.copyLine = this.openLine = this.openCopyLine = firstLine;
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
    return this.openLine;
  }

  /**
   * Throws `MixedLineEndsError` at the first record whose line end differs from the header's, and
   * `BareCarriageReturnError` at the first CR outside quotes that no LF follows.
   */
  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.crBeforeChunk && chunk[0] !== LF) throw new BareCarriageReturnError(this.line);
    const linesBefore = this.scanner.lines;
    const quotedBefore = this.scanner.insideQuotes;
    const recordsBefore = this.scanner.records;
    this.scanner.scan(chunk);
    const newRecords = this.scanner.records - recordsBefore;
    const newLines = this.scanner.lines - linesBefore;
    if (newLines === newRecords && this.onlyRecordEnds(chunk, newRecords)) {
      if (newRecords > 0) {
        this.endRecord();
        this.line += newRecords - 1;
        this.copyLine += newRecords - 1;
        this.openLine = this.line;
        this.openCopyLine = this.copyLine;
      }
    } else {
      this.walk(chunk, quotedBefore);
    }
    this.lastByte = chunk[chunk.length - 1]!;
    this.crBeforeChunk = this.lastByte === CR && !this.scanner.insideQuotes;
  }

  /** True when every CR and LF in the chunk is part of a record's line end of the header's kind. */
  private onlyRecordEnds(chunk: Uint8Array, recordEnds: number): boolean {
    if (recordEnds === 0) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).indexOf(CR) === -1;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    const pairAcrossChunks = this.lastByte === CR && bytes[0] === LF;
    if (!this.crlf) return !pairAcrossChunks && bytes.indexOf(CR) === -1;
    let pairs = pairAcrossChunks ? 1 : 0;
    for (let at = bytes.indexOf(CR); at !== -1; at = bytes.indexOf(CR, at + 1)) {
      // A CR that ends the chunk pairs with the next chunk's LF, unless it is inside quotes.
      if (at + 1 === bytes.length) return !this.scanner.insideQuotes && pairs === recordEnds;
      if (bytes[at + 1] !== LF) return false;
      pairs++;
    }
    return pairs === recordEnds;
  }

  private walk(chunk: Uint8Array, quotedBefore: boolean): void {
    let inQuotes = quotedBefore;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) inQuotes = !inQuotes;
      else if (byte === LF) {
        if (inQuotes) {
          this.line++;
          if (this.lineEndKnown && !this.crlf) this.copyLine++;
        } else {
          if (((i > 0 ? chunk[i - 1] : this.lastByte) === CR) !== this.crlf)
            throw new MixedLineEndsError(this.line, this.crlf);
          this.endRecord();
        }
      } else if (byte === CR) {
        if (inQuotes) {
          if (!this.lineEndKnown || this.crlf) this.copyLine++;
        } else if (i + 1 < chunk.length && chunk[i + 1] !== LF) {
          // COPY would take it for a line end and load one row more than the file shows lines.
          throw new BareCarriageReturnError(this.line);
        }
      }
    }
  }

  /** Ends the open record on the current lines and opens the next one on the lines after. */
  private endRecord(): void {
    if (this.openLine !== this.line || this.openCopyLine !== this.copyLine) {
      this.irregular.push(this.openCopyLine, this.copyLine, this.openLine, this.line);
    }
    this.lineEndKnown = true;
    this.openLine = ++this.line;
    this.openCopyLine = ++this.copyLine;
  }

  /** The physical lines of the record on COPY's line `copyLine` (counted in file terms, from `firstLine`). */
  spanAt(copyLine: number): LineSpan {
    const records = this.irregular;
    let low = 0;
    let high = records.length / 4 - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (records[mid * 4]! <= copyLine) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found === -1) return { first: copyLine, last: copyLine };
    const [, copyLast, first, last] = records.slice(found * 4, found * 4 + 4) as [
      number,
      number,
      number,
      number,
    ];
    if (copyLine <= copyLast) return { first, last };
    const line = copyLine - copyLast + last;
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

/** Thrown at a CR outside quotes that does not start a CRLF (a classic Mac OS line end). */
export class BareCarriageReturnError extends Error {
  override name = 'BareCarriageReturnError';
  constructor(readonly line: number) {
    super('a carriage return (CR) without a line feed outside quotes; line ends must be LF or CRLF');
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
