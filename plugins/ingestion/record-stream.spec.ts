import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import {
  BareCarriageReturnError,
  MixedLineEndsError,
  RecordLineIndex,
  StagingRecordStream,
  UnterminatedQuoteError,
} from './record-stream.js';

/** Streams `text` through a StagingRecordStream in chunks of `size` bytes. */
async function pass(
  text: string,
  size: number,
  crlf = false,
): Promise<{ out: string; stream: StagingRecordStream }> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const stream = new StagingRecordStream(2, crlf);
  const out = await buffer(Readable.from(chunks).pipe(stream));
  return { out: out.toString(), stream };
}

describe('StagingRecordStream', () => {
  for (const size of [1, 3, 1024]) {
    it(`passes records through unchanged and counts them (chunks of ${size} bytes)`, async () => {
      const { out, stream } = await pass('a,1\nb,"x\ny"\nc,3\n', size);
      assert.equal(out, 'a,1\nb,"x\ny"\nc,3');
      assert.equal(stream.records, 3);
    });

    it(`drops empty lines at the end of the file, LF or CRLF (chunks of ${size} bytes)`, async () => {
      const lf = await pass('a,1\nb,2\n\n\n', size);
      assert.equal(lf.out, 'a,1\nb,2');
      assert.equal(lf.stream.records, 2);
      const windows = await pass('a,1\r\nb,2\r\n\r\n', size, true);
      assert.equal(windows.out, 'a,1\r\nb,2');
      assert.equal(windows.stream.records, 2);
    });

    it(`keeps empty lines between records and newlines inside a quoted last field (chunks of ${size} bytes)`, async () => {
      const middle = await pass('a,1\n\nb,2\n', size);
      assert.equal(middle.out, 'a,1\n\nb,2');
      assert.equal(middle.stream.records, 3);
      const quoted = await pass('a,"1\n\n"\n', size);
      assert.equal(quoted.out, 'a,"1\n\n"');
      assert.equal(quoted.stream.records, 1);
    });
  }

  it('counts a last record that has no newline', async () => {
    const { out, stream } = await pass('a,1\nb,2', 4);
    assert.equal(out, 'a,1\nb,2');
    assert.equal(stream.records, 2);
  });

  it('counts nothing when only empty lines follow the header', async () => {
    const { out, stream } = await pass('\n\n', 1);
    assert.equal(out, '');
    assert.equal(stream.records, 0);
  });

  it('fails at the end of the input inside a quoted field, naming the line where that record began', async () => {
    await assert.rejects(pass('a,1\nb,"x\ny,2\nz,3\n', 5), (error: unknown) => {
      assert.ok(error instanceof UnterminatedQuoteError);
      assert.equal(error.line, 3);
      return true;
    });
  });
});

describe('RecordLineIndex', () => {
  function feedAll(index: RecordLineIndex, text: string, size: number): void {
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += size) index.feed(bytes.subarray(i, i + size));
  }

  for (const size of [1, 2, 5, 100]) {
    it(`accepts records that all end like the header, with any newline inside quotes (chunks of ${size} bytes)`, () => {
      const windows = new RecordLineIndex(2, true);
      feedAll(windows, 'a,"x\ny\rz"\r\nb,2\r\nc,3\r\n', size);
      assert.equal(windows.records, 3);
      const unix = new RecordLineIndex(2, false);
      feedAll(unix, 'a,"x\r\ny"\nb,2\nc,"\r"\n', size);
      assert.equal(unix.records, 3);
    });

    it(`names the first line whose line end differs from the header's (chunks of ${size} bytes)`, () => {
      assert.throws(
        () => feedAll(new RecordLineIndex(2, true), 'a,1\r\nb,"x\ny"\r\nc,3\nd,4\r\n', size),
        (error: unknown) => {
          assert.ok(error instanceof MixedLineEndsError);
          assert.equal(error.line, 5);
          assert.equal(
            error.message,
            'the line ends with LF, but the header line ends with CRLF (use one kind throughout the file)',
          );
          return true;
        },
      );
      assert.throws(
        () => feedAll(new RecordLineIndex(2, false), 'a,1\nb,2\r\n', size),
        (error: unknown) => {
          assert.ok(error instanceof MixedLineEndsError);
          assert.equal(error.line, 3);
          return true;
        },
      );
    });

    it(`names the line of a carriage return that no line feed follows, outside quotes (chunks of ${size} bytes)`, () => {
      for (const [crlf, text, line] of [
        [false, 'a,1\nb,"x\ny"\nc,3\rd,4\n', 5],
        [true, 'a,1\r\nb,2\rc,3\r\n', 3],
        [false, 'a,1\rb,2\n', 2],
      ] as const) {
        assert.throws(
          () => feedAll(new RecordLineIndex(2, crlf), text, size),
          (error: unknown) => {
            assert.ok(error instanceof BareCarriageReturnError, String(error));
            assert.equal(error.line, line, JSON.stringify(text));
            return true;
          },
        );
      }
    });
  }

  // Lines 2..9 of a file: records on 2, 3-5 (two quoted newlines), 6, 7-8, 9.
  const text = 'a,1\nb,"x\ny\nz"\nc,3\nd,"p\nq"\ne,5\n';

  for (const size of [1, 2, 7, 100]) {
    it(`maps any line of a record to the lines the record spans (chunks of ${size} bytes)`, () => {
      const index = new RecordLineIndex(2, false);
      feedAll(index, text, size);
      assert.equal(index.records, 5);
      assert.deepEqual(index.spanAt(2), { first: 2, last: 2 });
      assert.deepEqual(index.spanAt(3), { first: 3, last: 5 });
      assert.deepEqual(index.spanAt(4), { first: 3, last: 5 });
      assert.deepEqual(index.spanAt(5), { first: 3, last: 5 });
      assert.deepEqual(index.spanAt(6), { first: 6, last: 6 });
      assert.deepEqual(index.spanAt(8), { first: 7, last: 8 });
      assert.deepEqual(index.spanAt(9), { first: 9, last: 9 });
      assert.equal(index.openRecordStart, 10);
    });

    it(`follows COPY, which counts no quoted LF before the first record ends (chunks of ${size} bytes)`, () => {
      const index = new RecordLineIndex(2, false);
      feedAll(index, 'a,"x\ny"\nb,2\nc,3\n', size);
      assert.deepEqual(index.spanAt(2), { first: 2, last: 3 });
      assert.deepEqual(index.spanAt(3), { first: 4, last: 4 });
      assert.deepEqual(index.spanAt(4), { first: 5, last: 5 });
    });

    it(`follows COPY, which counts quoted CRs, not LFs, in CRLF input (chunks of ${size} bytes)`, () => {
      const index = new RecordLineIndex(2, true);
      feedAll(index, 'a,1\r\nb,"x\ny"\r\nc,"p\rq"\r\nd,4\r\n', size);
      assert.deepEqual(index.spanAt(3), { first: 3, last: 4 });
      assert.deepEqual(index.spanAt(4), { first: 5, last: 5 });
      assert.deepEqual(index.spanAt(5), { first: 5, last: 5 });
      assert.deepEqual(index.spanAt(6), { first: 6, last: 6 });
    });
  }
});
