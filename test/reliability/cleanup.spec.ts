/**
 * Cleanup in a data folder that holds more than the pipeline's files: another program's, a
 * user's own CSVs, a file of the pipeline that a user replaced. The real CLI (`pipeline cleanup`)
 * after a real run; everything is 40 days old, past every retention period. Cleanup deletes only
 * what the pipeline wrote (its manifest) and is still as written.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { recordFault } from './fault-log.js';
import { RUN_DATE, cli, smallConfig } from './harness.js';

const FORTY_DAYS_AGO = new Date(Date.now() - 40 * 24 * 3600 * 1000);
const MANIFEST = '.pipeline/written-files.jsonl';

interface Entry {
  path: string;
  mtime_ns: string;
}

describe('cleanup deletes only the files the pipeline wrote', { skip: needsPostgres }, () => {
  let drop: () => Promise<void>;
  const data = mkdtempSync(join(tmpdir(), 'cleanup-'));
  const at = (path: string): string => join(data, path);
  let report: { deleted_files: string[]; kept_files: Array<{ path: string; reason: string }> };

  /** Someone else's file, 40 days old. */
  const foreign = (path: string, text: string): void => {
    mkdirSync(dirname(at(path)), { recursive: true });
    writeFileSync(at(path), text);
    utimesSync(at(path), FORTY_DAYS_AGO, FORTY_DAYS_AGO);
  };

  /**
   * Ages files the pipeline wrote as 40 days of waiting would: their modification time, and the
   * manifest's record of it (the manifest holds the time the file had when it was written).
   */
  const agePipelineFiles = (paths: readonly string[]): void => {
    const lines = readFileSync(at(MANIFEST), 'utf8').trimEnd().split('\n');
    const aged = lines.map((line) => {
      const entry = JSON.parse(line) as Entry;
      if (!paths.includes(entry.path)) return line;
      utimesSync(at(entry.path), FORTY_DAYS_AGO, FORTY_DAYS_AGO);
      return JSON.stringify({
        ...entry,
        mtime_ns: String(statSync(at(entry.path), { bigint: true }).mtimeNs),
      });
    });
    writeFileSync(at(MANIFEST), `${aged.join('\n')}\n`);
  };

  // data-generation writes the run date's input in a folder of its own.
  const PIPELINE_FILES = [
    `raw/${RUN_DATE}/customers.csv`,
    `raw/${RUN_DATE}/transactions.csv`,
    'processed/analytics/query1_top_products.csv',
  ];
  const GENERATED_PRODUCTS = `raw/${RUN_DATE}/products.csv`;

  before(async () => {
    let url: string;
    ({ url, drop } = await createPostgresDatabase('cleanup'));
    const env = { DATABASE_URL: url, PIPELINE_CONFIG: smallConfig(), PIPELINE_DATA_DIR: data };
    const run = await cli(env, 'run', '--date', RUN_DATE);
    assert.equal(run.code, 0, run.stderr);
    agePipelineFiles([...PIPELINE_FILES, GENERATED_PRODUCTS]);
    foreign('raw/other-program/state.db', 'another program keeps its state here');
    foreign('logs/syslog.1', 'rotated by logrotate, not by the pipeline');
    foreign('raw/2024-11-30/customers.csv', 'a user dropped this day in by hand');
    // A user's own products file renamed over the pipeline's: same name, another file.
    foreign('their-products.csv', 'the user replaced the generated products');
    renameSync(at('their-products.csv'), at(GENERATED_PRODUCTS));
    const cleanup = await cli(env, 'cleanup', '--date', RUN_DATE);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    const pipelineReport = JSON.parse(
      readFileSync(at('processed/pipeline_execution_report.json'), 'utf8'),
    ) as {
      stages: Array<{ stage: string; details: typeof report }>;
    };
    report = pipelineReport.stages.find((s) => s.stage === 'cleanup')!.details;
  });

  after(async () => {
    await drop?.();
  });

  const reasonFor = (path: string): string | undefined =>
    report.kept_files.find((k) => k.path === path)?.reason;

  it("keeps another program's 40-day-old files, in raw/ and logs/", () => {
    for (const path of ['raw/other-program/state.db', 'logs/syslog.1']) {
      assert.ok(existsSync(at(path)), path);
      assert.equal(reasonFor(path), 'not written by the pipeline (not in its manifest)');
    }
    recordFault({
      suite: 'cleanup',
      fault:
        "another program's files, 40 days old, in the data folder (raw/other-program/state.db, logs/syslog.1)",
      outcome: 'kept: not written by the pipeline (not in its manifest)',
      lost: 'nothing',
    });
  });

  it("keeps a user's own CSV dropped into raw/<date>/, 40 days old", () => {
    assert.equal(
      readFileSync(at('raw/2024-11-30/customers.csv'), 'utf8'),
      'a user dropped this day in by hand',
    );
    assert.equal(
      reasonFor('raw/2024-11-30/customers.csv'),
      'not written by the pipeline (not in its manifest)',
    );
    recordFault({
      suite: 'cleanup',
      fault: "a user's own CSV in raw/2024-11-30/, 40 days old",
      outcome: 'kept: not written by the pipeline (not in its manifest)',
      lost: 'nothing',
    });
  });

  it("keeps a user's file renamed over one the pipeline wrote", () => {
    assert.equal(readFileSync(at(GENERATED_PRODUCTS), 'utf8'), 'the user replaced the generated products');
    assert.equal(reasonFor(GENERATED_PRODUCTS), 'changed since the pipeline wrote it');
    recordFault({
      suite: 'cleanup',
      fault: "a user's file renamed over raw/<date>/products.csv (which the pipeline wrote), 40 days old",
      outcome: 'kept: changed since the pipeline wrote it',
      lost: 'nothing',
    });
  });

  it('deletes the 40-day-old files the pipeline wrote, and forgets them in its manifest', () => {
    for (const path of PIPELINE_FILES) assert.ok(!existsSync(at(path)), `${path} deleted`);
    assert.deepEqual([...report.deleted_files].sort(), [...PIPELINE_FILES].sort());
    const listed = readFileSync(at(MANIFEST), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as Entry).path);
    for (const path of [...PIPELINE_FILES, GENERATED_PRODUCTS]) assert.ok(!listed.includes(path), path);
    assert.ok(listed.includes('processed/pipeline_execution_report.json'));
    recordFault({
      suite: 'cleanup',
      fault: 'files the pipeline wrote (raw CSVs, an analytics export), 40 days old',
      outcome: `deleted (${PIPELINE_FILES.length} files); the manifest no longer lists them`,
      lost: 'only what retention asks for',
    });
  });
});
