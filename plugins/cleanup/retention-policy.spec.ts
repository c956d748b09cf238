import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { WrittenFiles } from '@pipeline/kernel';
import { applyRetention, type FolderPolicy } from './retention-policy.js';

const DAY_MS = 24 * 3600 * 1000;
const NOW = new Date();

describe('retention of the files in the data folder', () => {
  let root: string;
  let written: WrittenFiles;
  let policies: FolderPolicy[];

  /** Writes `relative` with `days` of age; `byPipeline`: and records it as the pipeline does. */
  function file(relative: string, days: number, byPipeline: boolean, text = 'x'): string {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    const at = new Date(NOW.getTime() - days * DAY_MS);
    utimesSync(path, at, at);
    if (byPipeline) written.record([relative], 'run-1');
    return path;
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'retention-'));
    written = new WrittenFiles(root, '.pipeline/written-files.jsonl');
    policies = [
      { folder: join(root, 'raw'), keepDays: 7 },
      { folder: join(root, 'processed'), keepDays: 30 },
    ];
  });

  const kept = (outcome: ReturnType<typeof applyRetention>, path: string): string | undefined =>
    outcome.kept.find((k) => k.path === path)?.reason;

  it('deletes the old files the pipeline wrote, in subfolders too, and frees their bytes', () => {
    const flat = file('raw/customers.csv', 10, true, 'abc');
    const dated = file('raw/2025-01-01/products.csv', 10, true, 'defg');
    const outcome = applyRetention(root, policies, NOW, written);
    assert.deepEqual(outcome.deleted.sort(), ['raw/2025-01-01/products.csv', 'raw/customers.csv']);
    assert.equal(outcome.bytesFreed, 7);
    assert.ok(!existsSync(flat) && !existsSync(dated));
  });

  it('never deletes a file another program put in the data folder, however old', () => {
    const foreign = file('raw/other-program.db', 40, false);
    const dropped = file('raw/2025-01-01/customers.csv', 40, false);
    const outcome = applyRetention(root, policies, NOW, written);
    assert.deepEqual(outcome.deleted, []);
    assert.equal(kept(outcome, 'raw/other-program.db'), 'not written by the pipeline (not in its manifest)');
    assert.equal(
      kept(outcome, 'raw/2025-01-01/customers.csv'),
      'not written by the pipeline (not in its manifest)',
    );
    assert.ok(existsSync(foreign) && existsSync(dropped));
  });

  it('keeps a file of the pipeline that someone replaced or changed since', () => {
    file('raw/customers.csv', 40, true);
    // A user's own file renamed over ours: another inode under the same name.
    const theirs = file('their-customers.csv', 40, false);
    renameSync(theirs, join(root, 'raw/customers.csv'));
    const changed = file('processed/analytics/query1.csv', 40, true, 'short');
    writeFileSync(changed, 'longer text');
    utimesSync(changed, new Date(NOW.getTime() - 40 * DAY_MS), new Date(NOW.getTime() - 40 * DAY_MS));
    const outcome = applyRetention(root, policies, NOW, written);
    assert.deepEqual(outcome.deleted, []);
    assert.equal(kept(outcome, 'raw/customers.csv'), 'changed since the pipeline wrote it');
    assert.equal(kept(outcome, 'processed/analytics/query1.csv'), 'changed since the pipeline wrote it');
  });

  it('keeps reports, files of the current day, younger files and symlinks', () => {
    file('processed/ingestion_summary.json', 90, true);
    file('raw/transactions.csv', 0.5, true);
    file('processed/analytics/query2.csv', 10, true);
    symlinkSync('/etc/hostname', join(root, 'raw', 'link.csv'));
    const outcome = applyRetention(root, policies, NOW, written);
    assert.deepEqual(outcome.deleted, []);
    assert.equal(kept(outcome, 'processed/ingestion_summary.json'), 'summary, report or metadata');
    assert.equal(kept(outcome, 'raw/transactions.csv'), 'from the current day');
    assert.equal(kept(outcome, 'processed/analytics/query2.csv'), 'younger than 30 days');
    assert.equal(kept(outcome, 'raw/link.csv'), 'symbolic link (never followed)');
  });

  it('rewrites its manifest without the files deleted and those no longer as written', () => {
    file('raw/customers.csv', 10, true);
    file('raw/products.csv', 3, true);
    const replaced = file('raw/transactions.csv', 3, true);
    writeFileSync(replaced, 'someone else');
    applyRetention(root, policies, NOW, written);
    assert.deepEqual([...written.entries().keys()], ['raw/products.csv']);
  });
});
