import { constants, type BigIntStats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { PermanentError, RetryableError } from '@pipeline/kernel';
import { excerpt } from './input-excerpt.js';
import { inputFileOperation } from './input-file-error.js';
import type { StagingTable } from './staging-tables.js';

/** A header line longer than this is not a header: the file is not one of ours. */
const MAX_HEADER_BYTES = 64 * 1024;
const READ_CHUNK_BYTES = 256 * 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** An input file whose header has been checked, ready to stream its data lines. */
export interface OpenedStagingFile {
  readonly path: string;
  readonly bytes: number;
  /** The header's columns in file order: the column list of the COPY. */
  readonly columns: readonly string[];
  /** Whether the header line ends with CRLF: every record must end the same way. */
  readonly crlf: boolean;
  /** The bytes before `data` (BOM and header line with its line end): with `data`, the whole file. */
  readonly header: Buffer;
  /** The data after the header line (file line 2 onward), streamed in chunks. */
  readonly data: Readable;
  /**
   * Throws a `RetryableError` naming the file if it was written to since it was opened: what was
   * read may then mix two versions. Called once the data has been read.
   */
  assertUnchanged(): Promise<void>;
  close(): Promise<void>;
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The folder the CSV files are read from; never outside the data folder. */
export function resolveInputDir(dataRoot: string, rawDir: string, configured: string | null): string {
  const dir = configured === null ? rawDir : resolve(dataRoot, configured);
  if (!isInside(dataRoot, dir)) {
    throw new PermanentError(
      `ingestion.input_dir "${configured}" resolves to ${dir}, outside the data folder ${dataRoot}`,
    );
  }
  return dir;
}

/**
 * Opens one input file and checks its header. The file must exist and be a regular file with one
 * name, and its real path (after following symlinks) must lie inside the data folder: a link must
 * not smuggle in other files. What it is, is asked before it is opened, because opening a named
 * pipe waits for a writer, forever, in one of the few threads all file access shares; and it is
 * opened non-blocking and asked again, in case the name was swapped in between.
 */
export async function openStagingFile(
  dataRoot: string,
  inputDir: string,
  spec: StagingTable,
): Promise<OpenedStagingFile> {
  const path = join(inputDir, spec.file);
  const real = await inputFileOperation(path, () => realpath(path));
  const realRoot = await realpath(dataRoot);
  if (!isInside(realRoot, real)) {
    throw new PermanentError(`${path}: refused, it resolves to ${real}, outside the data folder ${realRoot}`);
  }
  refuseUnlessPlainFile(path, await inputFileOperation(path, () => stat(real, { bigint: true })));
  const handle = await inputFileOperation(
    path,
    () => open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW),
    // O_NOFOLLOW: the real path resolved a moment ago has become a symbolic link since, a swap.
    { ELOOP: new RetryableError(`${path}: it changed into a symbolic link while it was opened`) },
  );
  try {
    const opened = await handle.stat({ bigint: true });
    refuseUnlessPlainFile(path, opened);
    const size = Number(opened.size);
    const header = await readHeaderLine(handle, path, size);
    const columns = checkHeader(path, header.text, spec);
    const data = handle.createReadStream({
      start: header.dataStart,
      highWaterMark: READ_CHUNK_BYTES,
      autoClose: false,
    });
    return {
      path,
      bytes: size,
      columns,
      crlf: header.crlf,
      header: header.bytes,
      data,
      assertUnchanged: async () => assertSameVersion(path, opened, await handle.stat({ bigint: true })),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Only a regular file with one name is an input. A directory, a named pipe, a socket or a device
 * is refused by name (reading a pipe or a device may never end); so is a file with hard links,
 * because its other names may lie anywhere on the same file system, outside the data folder
 * (`ln /etc/passwd raw/customers.csv`), as a symlink's target may.
 */
function refuseUnlessPlainFile(path: string, stats: BigIntStats): void {
  const kind = stats.isDirectory()
    ? 'a directory'
    : stats.isFIFO()
      ? 'a named pipe (FIFO)'
      : stats.isSocket()
        ? 'a socket'
        : stats.isCharacterDevice() || stats.isBlockDevice()
          ? 'a device'
          : stats.isFile()
            ? null
            : 'an unknown kind of file';
  if (kind) throw new PermanentError(`${path}: refused, it is ${kind}, not a regular file`);
  if (stats.nlink > 1n) {
    throw new PermanentError(
      `${path}: refused, it has ${stats.nlink} hard links (its other names may lie outside the data folder); copy the file instead of linking it`,
    );
  }
}

/**
 * The file's size and modification and change times now against when it was opened. A write in
 * place changes the times (the change time even when a writer resets the modification time). A
 * file renamed over this one is a new inode and does not touch what is read through the open
 * handle; it only unlinks this one, which changes its change time too, so that time counts only
 * while the file keeps its links.
 */
function assertSameVersion(path: string, opened: BigIntStats, now: BigIntStats): void {
  const changed: string[] = [];
  if (now.size !== opened.size) changed.push(`size ${opened.size} -> ${now.size} bytes`);
  if (now.mtimeNs !== opened.mtimeNs || (now.nlink === opened.nlink && now.ctimeNs !== opened.ctimeNs))
    changed.push('modified');
  if (changed.length > 0) {
    throw new RetryableError(
      `${path}: the file changed while it was read (${changed.join(', ')}); nothing of it was loaded, run again once it is written completely`,
    );
  }
}

/** Reads line 1 without reading further than needed; returns its text and where line 2 starts. */
async function readHeaderLine(
  handle: FileHandle,
  path: string,
  size: number,
): Promise<{ text: string; crlf: boolean; dataStart: number; bytes: Buffer }> {
  if (size === 0) throw new PermanentError(`${path}, line 1: the file is empty (expected a header line)`);
  const buffer = Buffer.alloc(Math.min(size, MAX_HEADER_BYTES + 1));
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  const head = buffer.subarray(0, bytesRead);
  let end = head.indexOf(0x0a);
  if (end === -1) {
    if (bytesRead < size)
      throw new PermanentError(
        `${path}, line 1: no line end within the first ${MAX_HEADER_BYTES} bytes (not a CSV header)`,
      );
    end = bytesRead;
  }
  let line = head.subarray(0, end);
  if (line.subarray(0, 3).equals(BOM)) line = line.subarray(3);
  const crlf = line[line.length - 1] === 0x0d;
  if (crlf) line = line.subarray(0, line.length - 1);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(line);
  } catch {
    throw new PermanentError(`${path}, line 1: the header is not valid UTF-8`);
  }
  if (text.includes('\r')) {
    throw new PermanentError(
      `${path}, line 1: carriage return inside the header (line ends must be LF or CRLF)`,
    );
  }
  const dataStart = Math.min(end + 1, size);
  return { text, crlf, dataStart, bytes: Buffer.from(head.subarray(0, dataStart)) };
}

/** Splits one CSV line into fields, honouring quotes (some tools quote every header name). */
function splitHeader(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Problems of one kind listed in an error before the rest are only counted. */
const LISTED_PROBLEMS = 3;

/** The header must name each contract column exactly once, in any order, and nothing else. */
function checkHeader(path: string, text: string, spec: StagingTable): string[] {
  const columns = splitHeader(text);
  const expected = new Set(spec.columns);
  const seen = new Set<string>();
  const repeated: string[] = [];
  const unexpected: string[] = [];
  // A contract column is named as it is; anything else is the file's text: an excerpt only.
  const shown = (column: string): string => (expected.has(column) ? `"${column}"` : excerpt(column));
  for (const column of columns) {
    if (seen.has(column)) repeated.push(`column ${shown(column)} appears more than once`);
    else if (!expected.has(column)) unexpected.push(`unexpected column ${shown(column)}`);
    seen.add(column);
  }
  const missing = spec.columns.filter((column) => !seen.has(column)).map((c) => `missing column "${c}"`);
  const problems = [...listed(repeated), ...listed(unexpected), ...missing];
  if (problems.length > 0) {
    throw new PermanentError(
      `${path}, line 1: ${problems.join('; ')} (expected the columns ${spec.columns.join(', ')})`,
    );
  }
  return columns;
}

function listed(problems: readonly string[]): string[] {
  if (problems.length <= LISTED_PROBLEMS) return [...problems];
  return [...problems.slice(0, LISTED_PROBLEMS), `${problems.length - LISTED_PROBLEMS} more like it`];
}
