import { createHash, type Hash } from 'node:crypto';
import { join, relative } from 'node:path';
import { addAbortSignal, pipeline, Transform } from 'node:stream';
import {
  PermanentError,
  RAW_FOLDER,
  Stage,
  type InputFingerprintContext,
  type PipelineStage,
  type StageContext,
  type StageResult,
  type StageTransaction,
} from '@pipeline/kernel';
import { locateLoadError } from './copy-error.js';
import { datedInputFingerprint, inputFingerprint, resolveDatedInput } from './dated-input.js';
import { ingestionConfigSchema, type IngestionSettings } from './ingestion.config.js';
import {
  writeSummary,
  type IngestionSummary,
  type TableLoadStatus,
  type TableLoadSummary,
} from './ingestion-summary.js';
import { StagingRecordStream } from './record-stream.js';
import { openStagingFile, resolveInputDir, type OpenedStagingFile } from './staging-file.js';
import { STAGING_TABLES, type StagingTable } from './staging-tables.js';

export const SUMMARY_FILE = 'ingestion_summary.json';
/** The header is read apart, so the first byte COPY sees is on file line 2. */
const FIRST_DATA_LINE = 2;

/** What happened to one file during this run; becomes its line in the summary. */
interface TableLoad {
  readonly spec: StagingTable;
  file: OpenedStagingFile | null;
  status: TableLoadStatus;
  rowsInFile: number | null;
  rowsCopied: number;
  error: string | null;
  durationMs: number | null;
  /** The file's sha256, taken while it streams to the database. */
  sha256: string | null;
}

@Stage({
  name: 'ingestion',
  description: 'Loads the four raw CSV files into staging.* with COPY, all or nothing',
  dependsOn: ['data-generation'],
  config: { key: 'ingestion', schema: ingestionConfigSchema },
})
export class IngestionStage implements PipelineStage<IngestionSettings> {
  async run(ctx: StageContext<IngestionSettings>): Promise<StageResult> {
    const started = performance.now();
    const inbox = resolveInputDir(ctx.paths.root, join(ctx.paths.root, RAW_FOLDER), ctx.settings.input_dir);
    const inputDir = await resolveDatedInput(inbox, ctx.runDate);
    const loads: TableLoad[] = STAGING_TABLES.map((spec) => ({
      spec,
      file: null,
      status: 'not_loaded',
      rowsInFile: null,
      rowsCopied: 0,
      error: null,
      durationMs: null,
      sha256: null,
    }));
    let failure: unknown = null;
    try {
      // Every header is checked before staging is touched: a bad file fails fast and cheaply.
      for (const load of loads) {
        try {
          load.file = await openStagingFile(ctx.paths.root, inputDir, load.spec);
        } catch (error) {
          load.status = 'failed';
          load.error = (error as Error).message;
          throw error;
        }
      }
      await ctx.checkpoint('ingestion:opened');
      await ctx.db.transaction(async (tx) => {
        await tx.query(`TRUNCATE ${STAGING_TABLES.map((t) => t.table).join(', ')}`);
        for (const load of loads) {
          ctx.signal.throwIfAborted();
          await this.loadTable(ctx, tx, load);
        }
        await ctx.checkpoint('ingestion:loaded');
        for (const load of loads) verifyCount(load);
      });
      for (const load of loads) load.status = 'loaded';
    } catch (error) {
      failure = error;
      for (const load of loads) if (load.status === 'loaded') load.status = 'rolled_back';
    } finally {
      await Promise.all(loads.map((load) => load.file?.close()));
    }

    const summaryPath = join(ctx.paths.own, SUMMARY_FILE);
    const tables = loads.map((load) => summarize(ctx.paths.root, inputDir, load, failure === null));
    const summary: IngestionSummary = {
      run_id: ctx.runId,
      run_date: ctx.runDate,
      status: failure === null ? 'succeeded' : 'failed',
      input_dir: relative(ctx.paths.root, inputDir) || '.',
      duration_ms: Math.round(performance.now() - started),
      error: failure === null ? null : String((failure as Error).message ?? failure),
      tables,
    };
    try {
      await writeSummary(summaryPath, summary);
    } catch (error) {
      if (failure === null) throw error;
      ctx.logger.warn('could not write the ingestion summary', {
        path: summaryPath,
        error: (error as Error).message,
      });
    }
    if (failure !== null) throw failure;

    const fingerprint = inputFingerprint(
      loads.map((load) => ({ file: load.spec.file, sha256: load.sha256! })),
    );
    return {
      rows: loads.map((load) => ({
        table: load.spec.table,
        read: load.rowsInFile ?? 0,
        written: load.rowsCopied,
      })),
      files: [relative(ctx.paths.root, summaryPath)],
      details: { input_dir: summary.input_dir, input_fingerprint: fingerprint, tables },
      inputFingerprint: fingerprint,
      // The quality gate names the file when the dates inside it do not fit the run's date.
      outputs: { 'staged-input': { files: Object.fromEntries(tables.map((t) => [t.table, t.file])) } },
    };
  }

  /** The fingerprint of the files in the date's own folder, if it has one (README, "Inputs by business date"). */
  async inputFingerprint(ctx: InputFingerprintContext<IngestionSettings>): Promise<string | null> {
    const inbox = resolveInputDir(ctx.paths.root, join(ctx.paths.root, RAW_FOLDER), ctx.settings.input_dir);
    return datedInputFingerprint(inbox, ctx.runDate);
  }

  /** Streams one file's data lines into its table; the database parses, this only counts. */
  private async loadTable(
    ctx: StageContext<IngestionSettings>,
    tx: StageTransaction,
    load: TableLoad,
  ): Promise<void> {
    const file = load.file!;
    const started = performance.now();
    const records = addAbortSignal(ctx.signal, new StagingRecordStream(FIRST_DATA_LINE, file.crlf));
    const hash = createHash('sha256').update(file.header);
    // pipeline, not pipe: a read error must reach the COPY, and a failed COPY must close the file.
    pipeline(file.data, hashing(hash), records, () => undefined);
    try {
      load.rowsCopied = await tx.copyCsv({ table: load.spec.table, columns: file.columns }, records);
      await file.assertUnchanged();
      load.rowsInFile = records.records;
      load.sha256 = hash.digest('hex');
      if (load.rowsInFile === 0) {
        throw new PermanentError(
          `${file.path}, line ${FIRST_DATA_LINE}: no data rows (the file holds only a header)`,
        );
      }
      load.status = 'loaded';
    } catch (error) {
      // A file written to while it was read explains a failure better than what COPY made of it.
      const cause = await file.assertUnchanged().then(
        () => error,
        (changed: unknown) => changed,
      );
      const located = locateLoadError(cause, file.path, FIRST_DATA_LINE, records.index, namesOf(load.spec));
      load.status = 'failed';
      load.error = (located as Error).message ?? String(located);
      throw located;
    } finally {
      load.durationMs = Math.round(performance.now() - started);
    }
    ctx.logger.info('loaded staging table', {
      table: load.spec.table,
      rows: load.rowsCopied,
      duration_ms: load.durationMs,
    });
  }
}

/** The names a database error about this file may quote whole: its columns and its table. */
function namesOf(spec: StagingTable): ReadonlySet<string> {
  return new Set([...spec.columns, spec.table, spec.table.split('.')[1]!]);
}

/** COPY may stop short of the file without an error (a line holding only `\.` ends its input). */
function verifyCount(load: TableLoad): void {
  if (load.rowsCopied !== load.rowsInFile) {
    load.status = 'failed';
    load.error = `${load.file!.path}: the file holds ${load.rowsInFile} records, but ${load.spec.table} received ${load.rowsCopied} rows`;
    throw new PermanentError(load.error);
  }
}

function summarize(root: string, inputDir: string, load: TableLoad, committed: boolean): TableLoadSummary {
  return {
    table: load.spec.table,
    file: relative(root, join(inputDir, load.spec.file)),
    bytes: load.file?.bytes ?? null,
    rows_in_file: load.rowsInFile,
    rows_loaded: committed ? load.rowsCopied : 0,
    status: load.status,
    error: load.error,
    duration_ms: load.durationMs,
  };
}

/** Passes the bytes on unchanged, adding them to `hash` (the file's fingerprint, taken in the same read). */
function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}
