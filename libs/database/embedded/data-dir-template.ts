/**
 * A fresh embedded database starts as a copy of database files that the build made once with
 * the same PGlite version. PGlite's own initdb runs three WebAssembly instances and a copy of one
 * instance's heap, about 600 MB that stay mapped for the life of the thread that ran them: a first
 * run peaked at 930 MB for that alone, and still at 845 MB with initdb in a thread of its own
 * (the peak is the peak). Copying the ~40 MB of files takes a fraction of a second and none of
 * that memory. Without a template (run from source, or built for another PGlite) the database is
 * initialised as before.
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build leaves the template, beside this module in `dist/`. */
export const TEMPLATE_DIR = fileURLToPath(new URL('./pgdata-template', import.meta.url));

const STAMP = 'pipeline-template.json';

/** The installed PGlite's version: a template from another version is not used. */
export function pgliteVersion(): string {
  // The package exports no package.json; its entry point is dist/index.js under the package root.
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** True when `dir` holds a complete template made by the installed PGlite. */
export function isUsableTemplate(dir: string = TEMPLATE_DIR): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8')) as { pglite?: string };
    return stamp.pglite === pgliteVersion() && existsSync(join(dir, 'PG_VERSION'));
  } catch {
    return false;
  }
}

/**
 * Copies the template into `target` (which must not exist yet) and answers true, or answers false
 * when there is no usable template. The stamp file is not copied: it describes the template.
 */
export function copyTemplate(target: string, dir: string = TEMPLATE_DIR): boolean {
  if (!isUsableTemplate(dir)) return false;
  cpSync(dir, target, {
    recursive: true,
    errorOnExist: true,
    force: false,
    filter: (source) => source !== join(dir, STAMP),
  });
  return true;
}

/**
 * Made by the build (scripts/embedded-template.mjs): initialises a database in a scratch folder
 * with `initialise`, stamps it, and moves it into place, so a build stopped half-way leaves no
 * template rather than a broken one.
 */
export async function buildTemplate(
  initialise: (dataDir: string) => Promise<void>,
  dir: string = TEMPLATE_DIR,
): Promise<void> {
  const scratch = `${dir}.partial`;
  rmSync(scratch, { recursive: true, force: true });
  await initialise(scratch);
  writeFileSync(join(scratch, STAMP), `${JSON.stringify({ pglite: pgliteVersion() })}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(scratch, dir);
}
