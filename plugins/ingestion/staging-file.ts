import { open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { PermanentError } from '../../libs/kernel/index.js';
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
 * Opens one input file and checks its header. The file must exist, and its real path (after
 * following symlinks) must lie inside the data folder: a link must not smuggle in other files.
 */
export async function openStagingFile(
  dataRoot: string,
  inputDir: string,
  spec: StagingTable,
): Promise<OpenedStagingFile> {
  const path = join(inputDir, spec.file);
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PermanentError(`${path}: missing input file`);
    throw error;
  }
  const realRoot = await realpath(dataRoot);
  if (!isInside(realRoot, real)) {
    throw new PermanentError(`${path}: refused, it resolves to ${real}, outside the data folder ${realRoot}`);
  }
  const handle = await open(real, 'r');
  try {
    const { size } = await handle.stat();
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
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
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

/** The header must name each contract column exactly once, in any order, and nothing else. */
function checkHeader(path: string, text: string, spec: StagingTable): string[] {
  const columns = splitHeader(text);
  const expected = new Set(spec.columns);
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const column of columns) {
    if (seen.has(column)) problems.push(`column "${column}" appears more than once`);
    else if (!expected.has(column)) problems.push(`unexpected column "${column}"`);
    seen.add(column);
  }
  for (const column of spec.columns) if (!seen.has(column)) problems.push(`missing column "${column}"`);
  if (problems.length > 0) {
    throw new PermanentError(
      `${path}, line 1: ${problems.join('; ')} (expected the columns ${spec.columns.join(', ')})`,
    );
  }
  return columns;
}
