import { lstatSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

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
 * Deletes files older than the policy in each folder (recursively), never a preserved file,
 * never one modified in the last day, never a symlink's target, never anything outside `root`.
 */
export function applyRetention(root: string, policies: readonly FolderPolicy[], now: Date): RetentionOutcome {
  const outcome: RetentionOutcome = { deleted: [], kept: [], bytesFreed: 0 };
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
      const stat = lstatSync(path);
      const shown = relative(root, path);
      if (stat.isSymbolicLink()) {
        outcome.kept.push({ path: shown, reason: 'symbolic link (never followed)' });
        continue;
      }
      if (stat.isDirectory()) {
        visit(path, keepDays);
        continue;
      }
      const ageDays = (now.getTime() - stat.mtimeMs) / dayMs;
      if (PRESERVED.test(name)) outcome.kept.push({ path: shown, reason: 'summary, report or metadata' });
      else if (ageDays < 1) outcome.kept.push({ path: shown, reason: 'from the current day' });
      else if (keepDays === 0 || ageDays < keepDays)
        outcome.kept.push({ path: shown, reason: `younger than ${keepDays || '∞'} days` });
      else if (!isInside(root, realpathSync(path)))
        outcome.kept.push({ path: shown, reason: 'outside the data folder' });
      else {
        rmSync(path);
        outcome.deleted.push(shown);
        outcome.bytesFreed += stat.size;
      }
    }
  };
  for (const policy of policies) {
    if (!isInside(root, policy.folder))
      throw new Error(`retention folder ${policy.folder} is outside the data folder ${root}`);
    visit(policy.folder, policy.keepDays);
  }
  return outcome;
}
