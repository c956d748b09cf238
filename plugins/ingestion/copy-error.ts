import { PermanentError, RetryableError, errorKind } from '@pipeline/kernel';
import { withoutInputValues } from './input-excerpt.js';
import {
  BareCarriageReturnError,
  MixedLineEndsError,
  UnterminatedQuoteError,
  type RecordLineIndex,
} from './record-stream.js';

/** The fields PostgreSQL's errors carry (pg's DatabaseError and the embedded adapter's alike). */
interface ServerErrorFields {
  readonly message: string;
  readonly where?: string;
}

// `COPY customers, line 3, column email: "..."`; the column part is absent for whole-line errors.
const COPY_CONTEXT = /COPY [^,]+, line (\d+)(?:, column ([^:]+))?/;

/**
 * Turns a failure while loading one file into an error naming the file, the physical line and
 * the column. COPY counts lines from the first byte it was sent (file line 2: the header is read
 * apart) and, inside a record, counts quoted newlines too, so its line is where the record ends;
 * the index gives the line where that record begins.
 *
 * The server's message quotes the offending value, and its context (`where`) the whole line:
 * only an excerpt of the value is kept (`names`, the file's columns and table, stay whole), and
 * the server's error is not kept as the cause, so that no log or report carries the file's bytes.
 */
export function locateLoadError(
  error: unknown,
  path: string,
  firstDataLine: number,
  index: RecordLineIndex,
  names: ReadonlySet<string>,
): unknown {
  if (
    error instanceof UnterminatedQuoteError ||
    error instanceof MixedLineEndsError ||
    error instanceof BareCarriageReturnError
  ) {
    return new PermanentError(`${path}, line ${error.line}: ${error.message}`);
  }
  const fields = error as Partial<ServerErrorFields> | null;
  const where = fields?.where;
  const context = typeof where === 'string' ? COPY_CONTEXT.exec(where) : null;
  if (!context || typeof fields?.message !== 'string') return error;
  const span = index.spanAt(Number(context[1]) + firstDataLine - 1);
  const lines =
    span.first === span.last
      ? `line ${span.first}`
      : `line ${span.first} (a record spanning lines ${span.first}-${span.last})`;
  const column = context[2] ?? /missing data for column "([^"]+)"/.exec(fields.message)?.[1];
  // COPY quotes the offending line after the colon; an empty quote means a blank line.
  const blankLine = where!.endsWith(': ""') ? ' (an empty line)' : '';
  const message = `${path}, ${lines}${column ? `, column ${column}` : ''}: ${withoutInputValues(fields.message, names)}${blankLine}`;
  return errorKind(error) === 'permanent' ? new PermanentError(message) : new RetryableError(message);
}
