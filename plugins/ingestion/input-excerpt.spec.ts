import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXCERPT_CHARS, excerpt, withoutInputValues } from './input-excerpt.js';

describe('excerpts of input values in error messages', () => {
  it('quotes a short value whole', () => {
    assert.equal(excerpt('abc'), '"abc"');
    assert.equal(excerpt('2024-13-45'), '"2024-13-45"');
  });

  it(`cuts a longer value to ${EXCERPT_CHARS} characters and marks the cut`, () => {
    assert.equal(excerpt('root:x:0:0:root:/root:/bin/bash'), '"root:x:0:0…"');
  });

  it('escapes quotes, backslashes, control characters and anything outside printable ASCII', () => {
    assert.equal(excerpt('a"b\\c\n\u001b'), '"a\\"b\\\\c\\x0a\\x1b"');
    assert.equal(excerpt('Zoë🚀'), '"Zo\\xeb\\u{1f680}"');
  });

  it('counts characters, not UTF-16 units, so a cut never splits one', () => {
    assert.equal(excerpt('🚀'.repeat(12)), `"${'\\u{1f680}'.repeat(10)}…"`);
  });
});

describe('database error messages without the input they quote', () => {
  const names = new Set(['email', 'customers']);

  it('cuts the quoted value of an input syntax error', () => {
    assert.equal(
      withoutInputValues('invalid input syntax for type integer: "12345678901234"', names),
      'invalid input syntax for type integer: "1234567890…"',
    );
  });

  it('keeps quoted names and encodings whole', () => {
    assert.equal(
      withoutInputValues('missing data for column "email"', names),
      'missing data for column "email"',
    );
    assert.equal(
      withoutInputValues('invalid byte sequence for encoding "UTF8": 0xff', names),
      'invalid byte sequence for encoding "UTF8": 0xff',
    );
  });

  it('cuts a value in the middle of a message', () => {
    assert.equal(
      withoutInputValues('value "99999999999999" is out of range for type integer', names),
      'value "9999999999…" is out of range for type integer',
    );
  });

  it('takes a value holding quotes to run to the last quote, so none of it escapes the excerpt', () => {
    assert.equal(
      withoutInputValues('invalid input syntax for type date: "a" secret "b"', names),
      'invalid input syntax for type date: "a\\" secret …"',
    );
  });
});
