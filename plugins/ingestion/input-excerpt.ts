/**
 * Error messages leave the process (logs, the run report, `GET /runs`, which answers without a
 * token), so they never quote an input file's bytes: a file hard-linked or copied from elsewhere
 * (`/etc/passwd`) would be served to anyone. Where a value helps the reader find the fault, a few
 * of its characters are shown, escaped so that control characters and quotes cannot forge lines
 * or fields in a log.
 */

/** At most this many characters of a value from an input file appear in an error. */
export const EXCERPT_CHARS = 10;

/** `"abc"`, or the first characters of a longer value followed by `…`; always quoted, escaped. */
export function excerpt(value: string): string {
  const chars = [...value];
  const shown = chars.slice(0, EXCERPT_CHARS).map(escapeChar).join('');
  return `"${shown}${chars.length > EXCERPT_CHARS ? '…' : ''}"`;
}

function escapeChar(char: string): string {
  if (char === '"' || char === '\\') return `\\${char}`;
  const code = char.codePointAt(0)!;
  // Printable ASCII stays; anything else (controls, line ends, non-ASCII) is shown by its code.
  if (code >= 0x20 && code < 0x7f) return char;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * A database error message with the input it quotes cut to an excerpt. PostgreSQL quotes the
 * offending input (`invalid input syntax for type integer: "abc"`, `value "99999999999" is out of
 * range`) without escaping the quotes inside it, and quotes names too (`missing data for column
 * "email"`, `encoding "UTF8"`). So a quoted name from `names` (or an encoding) stays whole, and
 * anything else is taken to be input that runs to the last quote of the message: whatever quotes
 * the value holds, no more than an excerpt of it is left.
 */
export function withoutInputValues(message: string, names: ReadonlySet<string>): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = message.indexOf('"', at);
    const close = open === -1 ? -1 : message.indexOf('"', open + 1);
    if (close === -1) return out + message.slice(at);
    const inner = message.slice(open + 1, close);
    if (names.has(inner) || message.slice(0, open).endsWith('encoding ')) {
      out += message.slice(at, close + 1);
      at = close + 1;
    } else {
      const last = message.lastIndexOf('"');
      out += message.slice(at, open) + excerpt(message.slice(open + 1, last));
      at = last + 1;
    }
  }
}
