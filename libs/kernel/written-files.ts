import { appendFileSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';

/** One file the pipeline wrote, as it was right after: which inode, how big, when modified. */
export interface WrittenFile {
  /** Relative to the data folder. */
  readonly path: string;
  readonly inode: string;
  readonly size: string;
  readonly mtime_ns: string;
  readonly run_id: string;
}

/**
 * The manifest of the files the pipeline wrote under the data folder (`pipeline.written_files`,
 * one JSON line per file written). Cleanup deletes only files listed here that are still exactly
 * what was written (same inode, size and modification time): a file a user or another program
 * put in the data folder, or put over one of ours, is never the pipeline's to delete, however
 * old. It lives in the data folder, not the database, because each replica has its own folder.
 */
export class WrittenFiles {
  readonly manifest: string;

  constructor(
    private readonly root: string,
    manifestFile: string,
  ) {
    this.manifest = join(root, manifestFile);
  }

  /**
   * Records files just written (paths relative to the data folder) as they are now. A path
   * outside the data folder, or one that is gone or not a regular file, is not recorded.
   */
  record(paths: readonly string[], runId: string): void {
    const lines: string[] = [];
    for (const path of paths) {
      const relative = insideRelative(path);
      if (relative === null) continue;
      const stats = statOrNull(join(this.root, relative));
      if (!stats?.isFile()) continue;
      const entry: WrittenFile = {
        path: relative,
        inode: String(stats.ino),
        size: String(stats.size),
        mtime_ns: String(stats.mtimeNs),
        run_id: runId,
      };
      lines.push(JSON.stringify(entry));
    }
    if (lines.length === 0) return;
    mkdirSync(dirname(this.manifest), { recursive: true });
    appendFileSync(this.manifest, `${lines.join('\n')}\n`);
  }

  /** The latest entry of each path; an unreadable line (a torn write) is skipped. */
  entries(): Map<string, WrittenFile> {
    let text: string;
    try {
      text = readFileSync(this.manifest, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw error;
    }
    const entries = new Map<string, WrittenFile>();
    for (const line of text.split('\n')) {
      try {
        const entry = JSON.parse(line) as WrittenFile;
        if (typeof entry.path === 'string' && insideRelative(entry.path) === entry.path)
          entries.set(entry.path, entry);
      } catch {
        // an empty or torn line: that file is not known to be ours
      }
    }
    return entries;
  }

  /** Replaces the manifest with `entries` (those still on disk), atomically. */
  rewrite(entries: Iterable<WrittenFile>): void {
    const text = [...entries].map((e) => `${JSON.stringify(e)}\n`).join('');
    mkdirSync(dirname(this.manifest), { recursive: true });
    writeFileSync(`${this.manifest}.tmp`, text);
    renameSync(`${this.manifest}.tmp`, this.manifest);
  }
}

/** Whether the file at `stats` is still the one `entry` recorded. */
export function isAsWritten(
  entry: WrittenFile,
  stats: { ino: bigint; size: bigint; mtimeNs: bigint },
): boolean {
  return (
    entry.inode === String(stats.ino) &&
    entry.size === String(stats.size) &&
    entry.mtime_ns === String(stats.mtimeNs)
  );
}

/** `path` normalized, if it is relative and stays inside the folder it is relative to; else null. */
function insideRelative(path: string): string | null {
  if (isAbsolute(path)) return null;
  const normal = normalize(path);
  return normal === '..' || normal.startsWith(`..${sep}`) || normal === '.' ? null : normal;
}

function statOrNull(path: string) {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return null;
  }
}
