import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorKind } from '@pipeline/kernel';
import { inputFileError } from './input-file-error.js';
import { openStagingFile } from './staging-file.js';
import { STAGING_TABLES } from './staging-tables.js';

const customers = STAGING_TABLES.find((t) => t.file === 'customers.csv')!;

/** Opens customers.csv of `inputDir`; the error it fails with, as kind and message. */
async function refusal(root: string, inputDir: string): Promise<{ kind: string; message: string }> {
  try {
    await openStagingFile(root, inputDir, customers);
  } catch (error) {
    return { kind: errorKind(error), message: (error as Error).message };
  }
  throw new Error('opened');
}

describe('input files the file system cannot give', () => {
  const root = mkdtempSync(join(tmpdir(), 'staging-file-'));

  it('refuses a symlink loop for good, naming it', async () => {
    const dir = join(root, 'loop');
    mkdirSync(dir);
    symlinkSync('customers.csv', join(dir, 'customers.csv'));
    assert.deepEqual(await refusal(root, dir), {
      kind: 'permanent',
      message: `${join(dir, 'customers.csv')}: refused, it is a loop of symbolic links (ELOOP: a link that leads back to itself)`,
    });
  });

  it('refuses a path through a regular file for good, naming it', async () => {
    const file = join(root, 'not-a-folder');
    writeFileSync(file, '');
    assert.deepEqual(await refusal(root, file), {
      kind: 'permanent',
      message: `${join(file, 'customers.csv')}: cannot be reached, a name on its path is not a folder (ENOTDIR)`,
    });
  });

  it('refuses a path too long for good, naming it', async () => {
    const dir = join(root, 'x'.repeat(300));
    assert.deepEqual(await refusal(root, dir), {
      kind: 'permanent',
      message: `${join(dir, 'customers.csv')}: cannot be reached, its path is too long (ENAMETOOLONG)`,
    });
  });

  it('retries what may pass: too many open files, an I/O error', () => {
    for (const code of ['EMFILE', 'EIO']) {
      const error = inputFileError('/data/raw/x.csv', Object.assign(new Error(code), { code }));
      assert.equal(errorKind(error), 'retryable');
      assert.equal(error.message, `/data/raw/x.csv: ${code}`);
    }
  });
});
