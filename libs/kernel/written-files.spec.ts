import assert from 'node:assert/strict';
import { appendFileSync, lstatSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WrittenFiles, isAsWritten } from './written-files.js';

describe('the manifest of the files the pipeline wrote', () => {
  const folder = (): { root: string; written: WrittenFiles } => {
    const root = mkdtempSync(join(tmpdir(), 'written-'));
    mkdirSync(join(root, 'raw', '2025-01-01'), { recursive: true });
    return { root, written: new WrittenFiles(root, '.pipeline/written-files.jsonl') };
  };

  it('records a file as it is: inode, size and modification time, and the run', () => {
    const { root, written } = folder();
    writeFileSync(join(root, 'raw/2025-01-01/customers.csv'), 'abc');
    written.record(['raw/2025-01-01/customers.csv'], 'run-1');
    const entry = written.entries().get('raw/2025-01-01/customers.csv')!;
    assert.equal(entry.size, '3');
    assert.equal(entry.run_id, 'run-1');
    assert.ok(isAsWritten(entry, lstatSync(join(root, 'raw/2025-01-01/customers.csv'), { bigint: true })));
  });

  it('keeps the latest entry of a file written again', () => {
    const { root, written } = folder();
    writeFileSync(join(root, 'raw/customers.csv'), 'abc');
    written.record(['raw/customers.csv'], 'run-1');
    writeFileSync(join(root, 'raw/customers.csv'), 'abcdef');
    written.record(['raw/customers.csv'], 'run-2');
    assert.equal(written.entries().get('raw/customers.csv')!.run_id, 'run-2');
    assert.equal(written.entries().get('raw/customers.csv')!.size, '6');
  });

  it('records nothing outside the data folder, nothing missing and no folder', () => {
    const { written } = folder();
    written.record(['../elsewhere.csv', '/etc/hostname', 'raw/missing.csv', 'raw', 'raw/../../x'], 'run-1');
    assert.equal(written.entries().size, 0);
  });

  it('skips a torn line and an entry pointing outside, instead of failing', () => {
    const { root, written } = folder();
    writeFileSync(join(root, 'raw/customers.csv'), 'abc');
    written.record(['raw/customers.csv'], 'run-1');
    appendFileSync(
      written.manifest,
      '{"path": "../../etc/passwd", "inode": "1", "size": "1", "mtime_ns": "1", "run_id": "x"}\n{"path": "raw/pro',
    );
    assert.deepEqual([...written.entries().keys()], ['raw/customers.csv']);
  });
});
