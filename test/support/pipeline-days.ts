/**
 * Whole business days through the data stages, in this process: ingestion, the quality gate,
 * production-etl, warehouse and analytics run one after the other for a date, as a run does
 * (without the kernel's lock and records), so that tests can load dates in any order quickly and
 * compare what the warehouse ends up holding.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stageOptionsOf, type PipelineStage, type StageContext, type StageOutcome } from '@pipeline/kernel';
import { createTestBed, type Database, type TestBed } from '@pipeline/kernel/testing';
import analytics, { AnalyticsStage } from '@pipeline/plugin-analytics';
import dataGeneration, { DataGenerationStage } from '@pipeline/plugin-data-generation';
import ingestion, { IngestionStage } from '@pipeline/plugin-ingestion';
import productionEtl, { ProductionEtlStage } from '@pipeline/plugin-production-etl';
import qualityChecks, { QualityChecksStage } from '@pipeline/plugin-quality-checks';
import warehouse, { WarehouseStage } from '@pipeline/plugin-warehouse';
import { contentChecksums, type Queryable } from './checksums.js';

/** The data stages of a run, in order. */
const DAY_STAGES: readonly PipelineStage<unknown>[] = [
  new IngestionStage(),
  new QualityChecksStage(),
  new ProductionEtlStage(),
  new WarehouseStage(),
  new AnalyticsStage(),
] as PipelineStage<unknown>[];

/** A fresh PostgreSQL database migrated by the data stages' plugins, to load days into. */
export function dayBed(database: 'postgres' | 'embedded' = 'postgres'): Promise<TestBed> {
  return createTestBed({
    plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse, analytics],
    database,
  });
}

/** One business date's run through the data stages: its id and how each stage ended. */
export interface DayRun {
  readonly runId: string;
  readonly outcomes: readonly StageOutcome[];
}

/**
 * Loads one business date's input (already in `<dataDir>/raw/<date>/` or the flat inbox), as one
 * run: the stages share a run id and each sees the outcomes before it (what `ctx.outputOf` reads).
 * `logger` receives the stages' log lines (silent by default).
 */
export async function runDay(
  bed: TestBed,
  dataDir: string,
  date: string,
  config: Record<string, unknown> = {},
  logger?: StageContext['logger'],
): Promise<DayRun> {
  const runId = randomUUID();
  const outcomes: StageOutcome[] = [];
  for (const stage of DAY_STAGES) {
    const name = stageOptionsOf(stage.constructor)!.name;
    const ctx = bed.context(name, { dataDir, runDate: date, config, runId, earlierStages: [...outcomes] });
    const result = await stage.run(logger ? { ...ctx, logger } : ctx);
    outcomes.push({ stage: name, status: 'succeeded', attempts: 1, durationMs: null, error: null, result });
  }
  return { runId, outcomes };
}

/** Generates each date's input with the data-generation stage into `<dir>/raw/<date>/`. */
export async function generateDays(
  bed: TestBed,
  dir: string,
  fullLoadDate: string,
  dailyDates: readonly string[],
  section: Record<string, unknown>,
): Promise<void> {
  const stage = new DataGenerationStage();
  const run = (date: string, mode: 'full' | 'daily') =>
    stage.run(
      bed.context<Parameters<DataGenerationStage['run']>[0]['settings']>('data-generation', {
        dataDir: dir,
        runDate: date,
        config: { data_generation: { ...section, mode, end_date: fullLoadDate } },
      }),
    );
  await run(fullLoadDate, 'full');
  for (const date of dailyDates) await run(date, 'daily');
}

/** Copies a date's input folder from a source data folder into another one (replacing it). */
export function placeInput(sourceDir: string, dataDir: string, date: string): void {
  const target = join(dataDir, 'raw', date);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(dataDir, 'raw'), { recursive: true });
  cpSync(join(sourceDir, 'raw', date), target, { recursive: true });
}

export type CsvRow = Record<string, string>;

/** A raw CSV file as header and rows, and back (RFC 4180 quoting where needed). */
export function readCsv(path: string): { header: string[]; rows: CsvRow[] } {
  const text = readFileSync(path, 'utf8');
  const header = text.slice(0, text.indexOf('\n')).split(',');
  return { header, rows: parse(text, { columns: true }) as CsvRow[] };
}

export function writeCsv(path: string, header: readonly string[], rows: readonly CsvRow[]): void {
  const field = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const lines = [header.join(','), ...rows.map((r) => header.map((h) => field(r[h] ?? '')).join(','))];
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The ten analytics exports' bytes, by file name. */
export function exportsOf(dataDir: string): Record<string, string> {
  const dir = join(dataDir, 'processed', 'analytics');
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

/** Tables whose rows record the runs (logs, inboxes, per-run audit), not the data's state. */
const PER_RUN = new Set([
  'production.rejected_rows',
  'production.withdrawn_facts',
  'production.member_changes',
  'warehouse.fact_changes',
  'analytics.summary_state',
]);

/**
 * Checksums of production, the warehouse and the analytics summaries over natural keys and
 * values (test/support/checksums.ts), leaving out what records the runs rather than the data.
 */
export function stateChecksums(db: Database): Promise<Record<string, string>> {
  return contentChecksums(db.pool as unknown as Queryable, ['production', 'warehouse', 'analytics'], PER_RUN);
}
