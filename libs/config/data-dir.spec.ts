import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withoutDataDir } from './data-dir.js';

describe('withoutDataDir', () => {
  const data = join(realpathSync(mkdtempSync(join(tmpdir(), 'data-dir-'))), 'data');
  mkdirSync(data);

  it('names a file in the data folder relative to it, and the folder itself <data folder>', () => {
    assert.equal(
      withoutDataDir(`${data}/raw/2025-01-05/customers.csv: missing input file`, data),
      'raw/2025-01-05/customers.csv: missing input file',
    );
    assert.equal(
      withoutDataDir(`data folder ${data}: EACCES: permission denied, mkdir '${data}/raw'`, data),
      "data folder <data folder>: EACCES: permission denied, mkdir 'raw'",
    );
  });

  it('takes out the real path too, when the configured one goes through a symlink', () => {
    const link = join(mkdtempSync(join(tmpdir(), 'data-link-')), 'data');
    symlinkSync(data, link);
    assert.equal(
      withoutDataDir(`${link}/raw/a.csv resolves to ${data}/raw/b.csv; ${data}`, link),
      'raw/a.csv resolves to raw/b.csv; <data folder>',
    );
  });

  it('leaves a folder that only starts like it alone', () => {
    assert.equal(withoutDataDir(`${data}-old/raw.csv`, data), `${data}-old/raw.csv`);
  });
});
