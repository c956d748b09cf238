import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentError } from '@pipeline/kernel';
import { inputFileError, inputFileOperation } from './input-file-error.js';
import { STAGING_TABLES } from './staging-tables.js';

/** Moved along with the CSV files when a flat inbox is filed under its date (data-generation writes it). */
const COMPANION_FILES = ['generation_metadata.json'];

/**
 * The folder holding one business date's input: `<inbox>/<YYYY-MM-DD>/`. Each date's files are
 * kept there (README, "Inputs by business date"), so that any date can be loaded again.
 *
 * A flat inbox (the four files directly in `<inbox>/`) is accepted for a single date: the run
 * that finds no dated folder for its date files them under it first (a rename in the same folder),
 * so the next date does not find them again, and errors name where the files now are.
 */
export async function resolveDatedInput(inbox: string, runDate: string): Promise<string> {
  const dated = join(inbox, runDate);
  const inboxThere = await existingFolder(inbox);
  if (inboxThere && (await existingFolder(dated))) return dated;
  const names = new Set(inboxThere ? await inputFileOperation(inbox, () => readdir(inbox)) : []);
  const flat = [...STAGING_TABLES.map((t) => t.file), ...COMPANION_FILES].filter((name) => names.has(name));
  if (!STAGING_TABLES.some((t) => flat.includes(t.file))) {
    throw new PermanentError(
      `no input for business date ${runDate}: put its four CSV files in ${dated}/ ` +
        `(or in ${inbox}/ to load them as ${runDate})`,
    );
  }
  await inputFileOperation(dated, () => mkdir(dated, { recursive: true }));
  for (const name of flat)
    await inputFileOperation(join(inbox, name), () => rename(join(inbox, name), join(dated, name)));
  return dated;
}

/**
 * A fingerprint of one date's input: sha256 over each file's name and sha256, in load order, so
 * that a backfill can tell whether a date's files changed since it succeeded. Null when the date
 * has no folder of its own (nothing to compare yet).
 */
export async function datedInputFingerprint(inbox: string, runDate: string): Promise<string | null> {
  const dated = join(inbox, runDate);
  if (!(await isDirectory(dated))) return null;
  const files: FileDigest[] = [];
  for (const table of STAGING_TABLES) {
    const path = join(dated, table.file);
    // Only a regular file is read (a named pipe would block): anything else counts as missing.
    const regular = (await stat(path).catch(() => null))?.isFile() ?? false;
    files.push({ file: table.file, sha256: regular ? await fileSha256(path) : 'missing' });
  }
  return inputFingerprint(files);
}

export interface FileDigest {
  readonly file: string;
  readonly sha256: string;
}

export function inputFingerprint(files: readonly FileDigest[]): string {
  const hash = createHash('sha256');
  for (const { file, sha256 } of files) hash.update(`${file}:${sha256}\n`);
  return hash.digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Whether the input folder (or a date's folder in it) is there, refusing it by name when it is
 * there but no folder (a regular file, say) or cannot be looked at: that stays so until someone
 * acts, whereas "no input" would send the operator looking for files.
 */
async function existingFolder(path: string): Promise<boolean> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw inputFileError(path, error);
  }
  if (!stats.isDirectory()) {
    const kind = stats.isFile() ? 'a regular file' : 'a special file';
    throw new PermanentError(`${path}: refused, it is ${kind}, not a folder of input files`);
  }
  return true;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}
