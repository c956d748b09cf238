import { lstatSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isAsWritten, type WrittenFile, type WrittenFiles } from '@pipeline/kernel';

/** Kept whatever their age: the summaries, reports and metadata of the last runs. */
const PRESERVED = /(summary|report|metadata)\.json$/;

export interface FolderPolicy {
  readonly folder: string;
  readonly keepDays: number;
}

export interface RetentionOutcome {
  readonly deleted: string[];
  readonly kept: { path: string; reason: string }[];
  bytesFreed: number;
}

/** True when `path` is `root` or inside it, after resolving both (no `..`, no symlink escape). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(realpathSync(root), path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/**
 * Deletes, in each folder (recursively), the files the pipeline wrote (`written`, its manifest)
 * that are older than the policy; never a file the manifest does not list or one changed since it
 * was written (a user's or another program's, whatever its age), never a preserved file, never
 * one modified in the last day, never a symlink's target, never anything outside `root`. The
 * manifest is then rewritten without the files deleted and those no longer as written.
 */
export function applyRetention(
  root: string,
  policies: readonly FolderPolicy[],
  now: Date,
  written: WrittenFiles,
): RetentionOutcome {
  const outcome: RetentionOutcome = { deleted: [], kept: [], bytesFreed: 0 };
  const ours = written.entries();
  const dayMs = 24 * 3600 * 1000;
  const visit = (dir: string, keepDays: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const stat = lstatSync(path, { bigint: true });
      const shown = relative(root, path);
      if (stat.isSymbolicLink()) {
        outcome.kept.push({ path: shown, reason: 'symbolic link (never followed)' });
        continue;
      }
      if (stat.isDirectory()) {
        visit(path, keepDays);
        continue;
      }
      const entry = ours.get(shown);
      const ageDays = (now.getTime() - Number(stat.mtimeMs)) / dayMs;
      if (!entry)
        outcome.kept.push({ path: shown, reason: 'not written by the pipeline (not in its manifest)' });
      else if (!isAsWritten(entry, stat))
        outcome.kept.push({ path: shown, reason: 'changed since the pipeline wrote it' });
      else if (PRESERVED.test(name))
        outcome.kept.push({ path: shown, reason: 'summary, report or metadata' });
      else if (ageDays < 1) outcome.kept.push({ path: shown, reason: 'from the current day' });
      else if (keepDays === 0 || ageDays < keepDays)
        outcome.kept.push({ path: shown, reason: `younger than ${keepDays || '∞'} days` });
      else if (!isInside(root, realpathSync(path)))
        outcome.kept.push({ path: shown, reason: 'outside the data folder' });
      else {
        rmSync(path);
        outcome.deleted.push(shown);
        outcome.bytesFreed += Number(stat.size);
      }
    }
  };
  for (const policy of policies) {
    if (!isInside(root, policy.folder))
      throw new Error(`retention folder ${policy.folder} is outside the data folder ${root}`);
    visit(policy.folder, policy.keepDays);
  }
  written.rewrite([...ours.values()].filter((entry) => stillAsWritten(root, entry)));
  return outcome;
}

function stillAsWritten(root: string, entry: WrittenFile): boolean {
  try {
    return isAsWritten(entry, lstatSync(join(root, entry.path), { bigint: true }));
  } catch {
    return false;
  }
}
