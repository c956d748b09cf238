import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Folders that are never a data folder, whatever is configured: the file system's root, system
 * folders, the folders of users' homes and the homes themselves. `*` stands for any one name:
 * `/home/*` is every user's home, while `/home/alice/pipeline` is a folder of its own. `~` is the
 * home folder of the user the program runs as, wherever it is (`/opt/svc`, `/var/lib/app`).
 */
export const HOME = '~';

export const DEFAULT_REFUSED_DATA_DIRS: readonly string[] = [
  HOME,
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/home/*',
  '/lib',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/Users',
  '/Users/*',
  '/usr',
  '/usr/*',
  '/var',
  '/var/*',
];

/** The folder the program is installed in (the repository, or `/app` in the image). */
const PROGRAM_DIR = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

function matches(pattern: string, path: string): boolean {
  if (pattern === HOME) return path === homedir() || path === realPathOf(homedir());
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  return want.length === have.length && want.every((name, i) => name === '*' || name === have[i]);
}

/** The real path of `path`, following symlinks as far as the folders exist. */
function realPathOf(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const parent = dirname(path);
  return parent === path ? path : join(realPathOf(parent), basename(path));
}

const isInsideOrEqual = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..');
};

/**
 * Why `dataDir` (absolute) cannot be the data folder, or null. The pipeline creates, replaces and
 * (cleanup) deletes files under it, so it must be a folder of its own: not the root, not a system
 * folder or a home (`refused`, after following symlinks), not the program's folder or one that
 * holds it.
 */
export function dataDirRefusal(dataDir: string, refused: readonly string[]): string | null {
  for (const path of new Set([dataDir, realPathOf(dataDir)])) {
    const pattern = refused.find((p) => matches(p, path));
    if (pattern) {
      const named = path === dataDir ? path : `${dataDir} (really ${path})`;
      const what =
        pattern === '/'
          ? 'the root folder'
          : pattern === HOME
            ? `the home folder of the user the program runs as (${HOME})`
            : `a system or home folder (${pattern})`;
      return `${named} is ${what}`;
    }
    if (isInsideOrEqual(path, PROGRAM_DIR)) {
      return `${dataDir} ${path === PROGRAM_DIR ? 'is' : 'holds'} the program's folder ${PROGRAM_DIR}`;
    }
  }
  return null;
}

/**
 * `text` without the data folder's absolute path (as configured, and its real path after
 * symlinks): a path inside it reads relative to it (`raw/2025-01-05/customers.csv`), the folder
 * itself `<data folder>`. For text that leaves the process to whoever asks (the run records
 * `GET /runs` serves, readiness): where the data lives on the host is not theirs to know.
 */
export function withoutDataDir(text: string, dataDir: string): string {
  let out = text;
  // The longer first: the other may lie inside it (/tmp/data inside /private/tmp/data).
  const paths = [...new Set([dataDir, realPathOf(dataDir)])].sort((x, y) => y.length - x.length);
  for (const path of paths) {
    if (path === sep) continue;
    const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out
      .replace(new RegExp(`${escaped}${sep}+`, 'g'), '')
      .replace(new RegExp(`${escaped}(?![\\w.-])`, 'g'), '<data folder>');
  }
  return out;
}
