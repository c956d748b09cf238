import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyLineCounter } from './csv-records.js';

describe('CopyLineCounter', () => {
  it('counts a line per record and each quoted LF once LF input is known', () => {
    const counter = new CopyLineCounter();
    assert.deepEqual(counter.feed(Buffer.from('a,"x\ny"\nb,"p\nq"\nc,3\n')), { alone: 1, inStream: 1 });
    assert.equal(counter.lines, 4);
    assert.deepEqual(counter.feed(Buffer.from('d,"r\ns"\ne,5')), { alone: 1, inStream: 2 });
    assert.equal(counter.lines, 7);
  });

  it('counts quoted CRs, not LFs, in CRLF input and before the line end is known', () => {
    const counter = new CopyLineCounter();
    assert.deepEqual(counter.feed(Buffer.from('a,"x\ry"\r\nb,"p\nq"\r\nc,"\r\n"\r\n')), {
      alone: 2,
      inStream: 2,
    });
    assert.equal(counter.lines, 5);
    assert.deepEqual(counter.feed(Buffer.from('d,"r\rs"\r\n')), { alone: 2, inStream: 2 });
    assert.equal(counter.lines, 7);
  });
});
