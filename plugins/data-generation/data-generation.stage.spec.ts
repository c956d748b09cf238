import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stageOptionsOf } from '@pipeline/kernel';
import { createTestBed, postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
import dataGeneration from './index.js';
import { lineTotalCents } from './csv-format.js';
import type { DataGenerationSettings } from './data-generation.config.js';
import { DataGenerationStage } from './data-generation.stage.js';

const options = stageOptionsOf(DataGenerationStage)!;
const SMALL = { customers: 200, products: 80, transactions: 1_500 };

// The stage writes no tables; the context still wants a database, so one per file is opened
// (PostgreSQL when reachable, where it also checks the NUMERIC rounding).
const noPostgres = await postgresUnavailable();
let test: TestBed;
before(async () => {
  test = await createTestBed({
    plugins: [dataGeneration],
    database: noPostgres ? 'embedded' : 'postgres',
    poolSize: 2,
  });
});
after(async () => test?.dispose());

// Each context writes into a data folder of its own, so no test sees another's files.
const contextFor = (
  section: Record<string, unknown>,
  runDate = '2025-01-01',
  signal?: AbortSignal,
  succeededBefore?: string,
) =>
  test.context<DataGenerationSettings>(options.name, {
    config: { data_generation: section },
    runDate,
    dataDir: test.newDataDir(),
    ...(signal ? { signal } : {}),
    ...(succeededBefore ? { succeededBefore: { [options.name]: succeededBefore } } : {}),
  });

/** Where the stage writes a date's files: its own folder under raw/. */
const rawOf = (ctx: { paths: { own: string }; runDate: string }): string => join(ctx.paths.own, ctx.runDate);

describe('data-generation stage', () => {
  it('declares itself as the main-phase stage data-generation with the data_generation section and no dependencies', () => {
    assert.equal(options.name, 'data-generation');
    assert.equal(options.phase, 'main');
    assert.equal(options.config?.key, 'data_generation');
    assert.deepEqual(options.dependsOn ?? [], []);
  });

  it('writes the four raw files and the metadata and reports rows per file', async () => {
    const ctx = contextFor(SMALL);
    const result = await new DataGenerationStage().run(ctx);
    const items = parse(readFileSync(join(rawOf(ctx), 'transaction_items.csv'), 'utf8'), {
      columns: true,
    }) as unknown[];
    assert.deepEqual(result.rows, [
      { table: 'raw.customers', written: 200 },
      { table: 'raw.products', written: 80 },
      { table: 'raw.transactions', written: 1_500 },
      { table: 'raw.transaction_items', written: items.length },
    ]);
    assert.deepEqual(result.files, [
      'raw/2025-01-01/customers.csv',
      'raw/2025-01-01/products.csv',
      'raw/2025-01-01/transactions.csv',
      'raw/2025-01-01/transaction_items.csv',
      'raw/2025-01-01/generation_metadata.json',
    ]);
    assert.deepEqual(result.details?.counts, {
      customers: 200,
      products: 80,
      transactions: 1_500,
      transaction_items: items.length,
    });
    assert.equal(typeof result.details?.seconds, 'number');
    assert.deepEqual(readdirSync(rawOf(ctx)).sort(), [
      'customers.csv',
      'generation_metadata.json',
      'products.csv',
      'transaction_items.csv',
      'transactions.csv',
    ]);
  });

  it('gives the same files when run twice into the same folder', async () => {
    const ctx = contextFor(SMALL);
    const stage = new DataGenerationStage();
    await stage.run(ctx);
    const first = readFileSync(join(rawOf(ctx), 'generation_metadata.json'), 'utf8');
    await stage.run(ctx);
    assert.equal(readFileSync(join(rawOf(ctx), 'generation_metadata.json'), 'utf8'), first);
  });

  it('leaves the previous files untouched and no temporary file behind when aborted', async () => {
    const ctx = contextFor(SMALL);
    await new DataGenerationStage().run(ctx);
    const before = readFileSync(join(rawOf(ctx), 'transactions.csv'), 'utf8');
    const controller = new AbortController();
    controller.abort(new Error('shutdown'));
    const aborted = contextFor({ ...SMALL, transactions: 50_000, seed: 9 }, '2025-01-01', controller.signal);
    await assert.rejects(new DataGenerationStage().run({ ...aborted, paths: ctx.paths }), /shutdown/);
    assert.equal(readFileSync(join(rawOf(ctx), 'transactions.csv'), 'utf8'), before);
    assert.deepEqual(
      readdirSync(rawOf(ctx)).filter((name) => name.endsWith('.tmp')),
      [],
    );
  });

  it('passes the checkpoint data-generation:before-publish with every file still under its temporary name', async () => {
    const ctx = contextFor(SMALL);
    const seen: Array<{ point: string; files: string[] }> = [];
    const checkpoint = async (point: string) => {
      seen.push({ point, files: readdirSync(rawOf(ctx)).sort() });
      throw new Error('injected crash');
    };
    await assert.rejects(new DataGenerationStage().run({ ...ctx, checkpoint }), /injected crash/);
    assert.deepEqual(seen, [
      {
        point: 'data-generation:before-publish',
        files: ['customers.csv.tmp', 'products.csv.tmp', 'transaction_items.csv.tmp', 'transactions.csv.tmp'],
      },
    ]);
    assert.deepEqual(readdirSync(rawOf(ctx)), []);
  });

  describe('in auto mode, the default', () => {
    const transactionDates = async (runDate: string, succeededBefore?: string) => {
      const ctx = contextFor(SMALL, runDate, undefined, succeededBefore);
      const result = await new DataGenerationStage().run(ctx);
      const transactions = parse(readFileSync(join(rawOf(ctx), 'transactions.csv'), 'utf8'), {
        columns: true,
      }) as Array<Record<string, string>>;
      return { mode: result.details?.mode, dates: new Set(transactions.map((t) => t.transaction_date)) };
    };

    it('writes the full data set on the first business date it generates for', async () => {
      const { mode, dates } = await transactionDates('2025-01-05');
      assert.equal(mode, 'full');
      assert.ok(dates.size > 300, `the history spans the year, got ${dates.size} dates`);
    });

    it("writes the day's increment once an earlier business date was generated", async () => {
      const { mode, dates } = await transactionDates('2025-01-05', '2025-01-04');
      assert.equal(mode, 'daily');
      assert.deepEqual([...dates], ['2025-01-05']);
    });

    it('writes the full data set for a date inside its range, whatever ran before', async () => {
      const { mode } = await transactionDates('2024-12-31', '2024-12-30');
      assert.equal(mode, 'full');
    });
  });

  it('writes the daily increment in daily mode', async () => {
    const ctx = contextFor({ ...SMALL, mode: 'daily' }, '2025-01-05');
    const result = await new DataGenerationStage().run(ctx);
    const transactions = parse(readFileSync(join(rawOf(ctx), 'transactions.csv'), 'utf8'), {
      columns: true,
    }) as Array<Record<string, string>>;
    assert.ok(transactions.length > 0);
    assert.ok(transactions.every((t) => t.transaction_date === '2025-01-05'));
    assert.equal((result.details?.daily as { day_number: number }).day_number, 5);
    assert.ok(existsSync(join(rawOf(ctx), 'generation_metadata.json')));
  });
});

describe('line totals against PostgreSQL NUMERIC', { skip: noPostgres }, () => {
  it('matches round(quantity * unit_price * (1 - discount/100), 2) for every generated item', async () => {
    const ctx = contextFor({ ...SMALL, discounts: [0, 5, 10, 12.5, 15, 33.33, 50], seed: 11 });
    await new DataGenerationStage().run(ctx);
    const items = parse(readFileSync(join(rawOf(ctx), 'transaction_items.csv'), 'utf8'), {
      columns: true,
    }) as Array<Record<string, string>>;
    const { rows } = await test.db.pool.query<{ mismatches: string; compared: string }>(
      `SELECT count(*) FILTER (WHERE round(quantity * unit_price * (1 - discount_percentage / 100), 2) <> line_total) AS mismatches,
              count(*) AS compared
         FROM unnest($1::int[], $2::numeric(12,2)[], $3::numeric(5,2)[], $4::numeric(12,2)[])
           AS i(quantity, unit_price, discount_percentage, line_total)`,
      [
        items.map((i) => i.quantity),
        items.map((i) => i.unit_price),
        items.map((i) => i.discount_percentage),
        items.map((i) => i.line_total),
      ],
    );
    assert.deepEqual(rows[0], { mismatches: '0', compared: String(items.length) });
  });

  it('agrees with PostgreSQL on exact half-cent ties', async () => {
    const cases: Array<[number, number, number]> = [];
    for (const quantity of [1, 2, 3, 7]) {
      for (const priceCents of [1, 5, 15, 99, 105, 1005, 1999, 12345, 99_999_999]) {
        for (const discount of [0, 1, 500, 1250, 1500, 3333, 5000, 9999])
          cases.push([quantity, priceCents, discount]);
      }
    }
    const { rows } = await test.db.pool.query<{ cents: string }>(
      `SELECT (round(q * p / 100.0 * (1 - d / 10000.0), 2) * 100)::bigint AS cents
         FROM unnest($1::int[], $2::bigint[], $3::int[]) WITH ORDINALITY AS c(q, p, d, n) ORDER BY n`,
      [cases.map((c) => c[0]), cases.map((c) => c[1]), cases.map((c) => c[2])],
    );
    assert.deepEqual(
      cases.map(([q, p, d]) => lineTotalCents(q, p, d)),
      rows.map((r) => Number(r.cents)),
    );
  });
});
