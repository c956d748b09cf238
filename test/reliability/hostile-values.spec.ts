/**
 * Values that parse but are not what a sale can be: NaN and infinities in numbers, a third
 * decimal, a line total a cent off its quantity, price and discount, dates of -infinity or in the
 * years 1000 and 99999. Through the real stages (ingestion -> quality-checks -> production-etl ->
 * warehouse, in-process with real transactions on one PostgreSQL database, as
 * hostile-csv.spec.ts does), after a good generated data set is loaded. Outcomes:
 * - `refused`: ingestion refuses the file (an integer column), naming file, line and column;
 * - `quarantined`: the quality gate quarantines the row as an error and closes;
 * - `past the gate`: the gate is told to only warn about it; production-etl rejects the row by
 *   reason, and everything after it runs. The files are the loaded date's, corrected wrongly: the
 *   rerun replaces the day (production-etl README, "Order of runs"), so what the bad row stood for
 *   leaves the day, recorded (`production.withdrawn_facts`) and never silently; a rerun with the
 *   good files brings the day back exactly;
 * - `corrected`: the value loads replaced by the formula's and counted;
 * - `set aside`: a sale whose date the calendar cannot hold, written into production by hand
 *   (past every check); the warehouse leaves its items out of fact_sales, names it in a warning,
 *   and goes on, run after run; the first run after it is corrected loads it.
 * Whatever the outcome, nothing already committed is lost silently: production and warehouse
 * keep every row they had (their checksums are unchanged where nothing new was loaded), or the
 * row is recorded as withdrawn by the rerun of its date.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { stageOptionsOf, type PipelineStage } from '../../libs/kernel/index.js';
import dataGeneration, { DataGenerationStage } from '@pipeline/plugin-data-generation';
import ingestion, { IngestionStage } from '@pipeline/plugin-ingestion';
import productionEtl, { ProductionEtlStage } from '@pipeline/plugin-production-etl';
import qualityChecks, { QualityChecksStage } from '@pipeline/plugin-quality-checks';
import warehouse, { WarehouseStage } from '@pipeline/plugin-warehouse';
import { createTestBed, postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
import { recordFault } from './fault-log.js';
import { RUN_DATE, contentChecksums, scalar } from './harness.js';

type Files = Record<string, string>;
type Outcome =
  | { kind: 'refused'; file: string; line: number; column: string }
  | { kind: 'quarantined'; table: string; check: string }
  | { kind: 'past the gate'; table: string; rowId: (files: Files) => string; reason: string }
  | { kind: 'corrected'; check: (client: pg.Client) => Promise<string> }
  | {
      kind: 'set aside';
      /** The transaction set aside, and the date it is corrected to. */
      transaction: (files: Files) => string;
      correctedDate: (files: Files) => string;
      message: RegExp;
    };

interface ValueCase {
  readonly name: string;
  /** Changes the raw files; `files` holds the good files' text. */
  readonly mutate?: (files: Files, raw: string) => void;
  /** Writes into production directly, past every stage's checks. */
  readonly production?: (client: pg.Client) => Promise<void>;
  /** Quality checks told to only warn (the gate then lets the row through to production-etl). */
  readonly warnOnly?: readonly string[];
  readonly expected: Outcome;
}

const CONFIG = {
  data_generation: { customers: 120, products: 60, transactions: 400 },
  pipeline: { retry: { attempts: 1, base_delay_ms: 0, max_delay_ms: 0, jitter: 0 } },
};
const STAGES: Array<new () => PipelineStage<never>> = [
  IngestionStage as never,
  QualityChecksStage as never,
  ProductionEtlStage as never,
  WarehouseStage as never,
];

const lines = (text: string): string[] => text.split('\n');
/** Replaces field `column` (0-based; negative: from the end) of data row `row` (1-based). */
function setField(text: string, row: number, column: number, value: string): string {
  const all = lines(text);
  const fields = all[row]!.split(',');
  fields[column < 0 ? fields.length + column : column] = value;
  all[row] = fields.join(',');
  return all.join('\n');
}
/** Field `column` (0-based; negative: from the end) of data row `row` (1-based). */
const field = (text: string, row: number, column: number): string => lines(text)[row]!.split(',').at(column)!;
const edit = (raw: string, file: string, change: (text: string) => string): void =>
  writeFileSync(join(raw, file), change(readFileSync(join(raw, file), 'utf8')));
const append = (raw: string, file: string, line: string): void =>
  edit(raw, file, (text) => `${text.trimEnd()}\n${line}\n`);

/** A sale of one line, appended under new ids: the line total as given, the total its own. */
function appendSale(files: Files, raw: string, n: number, unitPrice: string, lineTotal: string): void {
  const customer = field(files['customers.csv']!, 1, 0);
  const product = field(files['products.csv']!, 1, 0);
  append(
    raw,
    'transactions.csv',
    `TXN9${n},${customer},${RUN_DATE},12:00:00,UPI,"1 Main St, Town",${lineTotal}`,
  );
  append(raw, 'transaction_items.csv', `ITEM9${n},TXN9${n},${product},1,${unitPrice},0,${lineTotal}`);
}

/**
 * A transaction and its one item written into production by hand, dated `date`, under a business
 * date no run here loads again (a rerun of a date replaces that date's facts).
 */
async function saleInProduction(client: pg.Client, id: string, date: string): Promise<void> {
  await client.query(
    `INSERT INTO production.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount, business_date)
     SELECT $1, min(customer_id), $2::date, 'UPI', 10.00, DATE '2000-01-01' FROM production.customers`,
    [id, date],
  );
  await client.query(
    `INSERT INTO production.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total, business_date)
     SELECT 'I' || $1, $1, min(product_id), 1, 10.00, 0, 10.00, DATE '2000-01-01' FROM production.products`,
    [id],
  );
}

/** A date changed by hand: updated_at untouched, so only the warehouse's own list finds it again. */
async function redate(client: pg.Client, id: string, date: string): Promise<void> {
  await client.query(
    'UPDATE production.transactions SET transaction_date = $2::date WHERE transaction_id = $1',
    [id, date],
  );
}

const CASES: readonly ValueCase[] = [
  // --- money exact or refused ---
  {
    name: 'price with a third decimal (a 5 appended: 919.815)',
    mutate: (f, raw) =>
      edit(raw, 'products.csv', () =>
        setField(f['products.csv']!, 1, 4, `${field(f['products.csv']!, 1, 4)}5`),
      ),
    expected: { kind: 'quarantined', table: 'products', check: 'products_numbers_exact' },
  },
  {
    name: 'discount with a third decimal (5.005 %)',
    mutate: (f, raw) =>
      edit(raw, 'transaction_items.csv', () => setField(f['transaction_items.csv']!, 2, 5, '5.005')),
    expected: { kind: 'quarantined', table: 'transaction_items', check: 'transaction_items_numbers_exact' },
  },
  {
    name: 'total amount with a third decimal',
    mutate: (f, raw) =>
      edit(raw, 'transactions.csv', () =>
        setField(f['transactions.csv']!, 3, -1, `${field(f['transactions.csv']!, 3, -1)}1`),
      ),
    expected: { kind: 'quarantined', table: 'transactions', check: 'transactions_numbers_exact' },
  },
  {
    name: 'price with a third decimal, the gate told to only warn',
    mutate: (_f, raw) =>
      append(raw, 'products.csv', 'PROD9001,Odd Cent,Books,Fiction,10.005,5.00,Acme,3,SUP001'),
    warnOnly: ['products_numbers_exact'],
    expected: {
      kind: 'past the gate',
      table: 'products',
      rowId: () => 'PROD9001',
      reason: 'more_than_two_decimals',
    },
  },
  {
    name: 'line total one cent off its quantity x price',
    mutate: (f, raw) => appendSale(f, raw, 1001, '19.99', '20.00'),
    expected: {
      kind: 'corrected',
      check: async (c) => {
        const row = await c.query<{ line: string; total: string; discount: string }>(
          `SELECT i.line_total::text AS line, t.total_amount::text AS total, f.discount_amount::text AS discount
           FROM production.transaction_items i JOIN production.transactions t USING (transaction_id)
           JOIN warehouse.fact_sales f USING (item_id) WHERE i.item_id = 'ITEM91001'`,
        );
        assert.deepEqual(row.rows, [{ line: '19.99', total: '19.99', discount: '0.00' }]);
        return 'loaded with the formula’s 19.99 instead of 20.00, counted as a corrected line total and total, with a warning; the fact adds up';
      },
    },
  },
  {
    name: 'line total two cents off its quantity x price',
    mutate: (f, raw) => appendSale(f, raw, 1002, '19.99', '20.01'),
    expected: { kind: 'quarantined', table: 'transaction_items', check: 'transaction_items_line_total' },
  },
  {
    name: 'line total with a third decimal, within a cent',
    mutate: (f, raw) => appendSale(f, raw, 1003, '19.99', '19.994'),
    expected: { kind: 'quarantined', table: 'transaction_items', check: 'transaction_items_numbers_exact' },
  },
  // --- NaN and infinities ---
  {
    name: 'product price NaN',
    mutate: (f, raw) => edit(raw, 'products.csv', () => setField(f['products.csv']!, 2, 4, 'NaN')),
    expected: { kind: 'quarantined', table: 'products', check: 'products_numbers_finite' },
  },
  {
    name: 'unit price Infinity',
    mutate: (f, raw) =>
      edit(raw, 'transaction_items.csv', () => setField(f['transaction_items.csv']!, 3, 4, 'Infinity')),
    expected: { kind: 'quarantined', table: 'transaction_items', check: 'transaction_items_numbers_finite' },
  },
  {
    name: 'total amount -Infinity',
    mutate: (f, raw) =>
      edit(raw, 'transactions.csv', () => setField(f['transactions.csv']!, 4, -1, '-Infinity')),
    expected: { kind: 'quarantined', table: 'transactions', check: 'transactions_numbers_finite' },
  },
  {
    name: 'stock quantity NaN',
    mutate: (f, raw) => edit(raw, 'products.csv', () => setField(f['products.csv']!, 3, 7, 'NaN')),
    expected: { kind: 'refused', file: 'products.csv', line: 4, column: 'stock_quantity' },
  },
  {
    name: 'quantity Infinity',
    mutate: (f, raw) =>
      edit(raw, 'transaction_items.csv', () => setField(f['transaction_items.csv']!, 4, 3, 'Infinity')),
    expected: { kind: 'refused', file: 'transaction_items.csv', line: 5, column: 'quantity' },
  },
  {
    name: 'product price NaN, the gate told to only warn',
    mutate: (f, raw) => edit(raw, 'products.csv', () => setField(f['products.csv']!, 2, 4, 'NaN')),
    warnOnly: ['products_numbers_finite'],
    expected: {
      kind: 'past the gate',
      table: 'products',
      rowId: (f) => field(f['products.csv']!, 2, 0),
      reason: 'non_finite_number',
    },
  },
  // --- impossible and implausible dates ---
  {
    name: 'transaction date -infinity',
    mutate: (f, raw) =>
      edit(raw, 'transactions.csv', () => setField(f['transactions.csv']!, 2, 2, '-infinity')),
    expected: { kind: 'quarantined', table: 'transactions', check: 'transactions_date_plausible' },
  },
  {
    name: 'transaction date 99999-01-01',
    mutate: (f, raw) =>
      edit(raw, 'transactions.csv', () => setField(f['transactions.csv']!, 2, 2, '99999-01-01')),
    expected: { kind: 'quarantined', table: 'transactions', check: 'transactions_date_plausible' },
  },
  {
    name: 'transaction date in the year 1000',
    mutate: (f, raw) =>
      edit(raw, 'transactions.csv', () => setField(f['transactions.csv']!, 2, 2, '1000-06-15')),
    expected: { kind: 'quarantined', table: 'transactions', check: 'transactions_date_plausible' },
  },
  {
    name: 'registration date infinity',
    mutate: (f, raw) => edit(raw, 'customers.csv', () => setField(f['customers.csv']!, 2, 5, 'infinity')),
    expected: { kind: 'quarantined', table: 'customers', check: 'customers_registration_plausible' },
  },
  {
    name: 'transaction date -infinity, the gate told to only warn',
    mutate: (f, raw) =>
      edit(raw, 'transactions.csv', () => setField(f['transactions.csv']!, 2, 2, '-infinity')),
    warnOnly: ['transactions_date_plausible'],
    expected: {
      kind: 'past the gate',
      table: 'transactions',
      rowId: (f) => field(f['transactions.csv']!, 2, 0),
      reason: 'implausible_date',
    },
  },
  {
    name: 'transaction dated -infinity written into production by hand',
    production: (c) => saleInProduction(c, 'TXN_HAND1', '-infinity'),
    expected: {
      kind: 'set aside',
      transaction: () => 'TXN_HAND1',
      correctedDate: () => RUN_DATE,
      message: /1 production\.transactions row\(s\) set aside, dated outside .*: TXN_HAND1 \(-infinity\)/,
    },
  },
  {
    name: 'transaction dated 99999-01-01 written into production by hand',
    production: (c) => saleInProduction(c, 'TXN_HAND2', '99999-01-01'),
    expected: {
      kind: 'set aside',
      transaction: () => 'TXN_HAND2',
      correctedDate: () => RUN_DATE,
      message: /1 production\.transactions row\(s\) set aside, dated outside .*: TXN_HAND2 \(99999-01-01\)/,
    },
  },
  {
    name: 'transaction dated infinity written into production by hand',
    production: (c) => saleInProduction(c, 'TXN_HAND3', 'infinity'),
    expected: {
      kind: 'set aside',
      transaction: () => 'TXN_HAND3',
      correctedDate: () => RUN_DATE,
      message: /1 production\.transactions row\(s\) set aside, dated outside .*: TXN_HAND3 \(infinity\)/,
    },
  },
];

describe(
  'hostile values through ingestion, the quality gate, production and the warehouse',
  { skip: await postgresUnavailable() },
  () => {
    let test: TestBed;
    let client: pg.Client;
    const data = mkdtempSync(join(tmpdir(), 'hostile-values-'));
    const raw = join(data, 'raw', RUN_DATE);
    const pristine = mkdtempSync(join(tmpdir(), 'hostile-values-good-'));
    const good: Files = {};

    /** The stages in order until one fails; the stage's error, or null when all succeeded. */
    async function runStages(
      quality: Record<string, unknown> = {},
    ): Promise<{ stage: string; error: string; warnings: string[] } | { stage: null; warnings: string[] }> {
      const warnings: string[] = [];
      for (const Stage of STAGES) {
        const options = stageOptionsOf(Stage)!;
        const ctx = test.context(options.name, {
          config: { ...CONFIG, quality },
          runDate: RUN_DATE,
          dataDir: data,
        });
        try {
          const result = await new Stage().run(ctx as never);
          warnings.push(...(result.warnings ?? []));
        } catch (error) {
          return { stage: options.name, error: (error as Error).message, warnings };
        }
      }
      return { stage: null, warnings };
    }

    function restoreRaw(): void {
      rmSync(raw, { recursive: true, force: true });
      cpSync(pristine, raw, { recursive: true });
    }

    /** Business ids held in production and the warehouse: none may go missing. */
    async function committedIds(): Promise<string[]> {
      const { rows } = await client.query<{ id: string }>(
        `SELECT 'c:' || customer_id AS id FROM production.customers
       UNION ALL SELECT 'p:' || product_id FROM production.products
       UNION ALL SELECT 't:' || transaction_id FROM production.transactions
       UNION ALL SELECT 'i:' || item_id FROM production.transaction_items
       UNION ALL SELECT 'f:' || item_id FROM warehouse.fact_sales`,
      );
      return rows.map((r) => r.id);
    }

    /** Checksums of production and the warehouse, their logs (rejected, withdrawn, changed rows) aside. */
    let goodContents: Record<string, string>;
    async function loadedContents(): Promise<Record<string, string>> {
      const sums = await contentChecksums(client, ['production', 'warehouse']);
      delete sums['production.rejected_rows'];
      delete sums['production.withdrawn_facts'];
      delete sums['warehouse.fact_changes'];
      return sums;
    }

    /** Ids of production rows the runs so far recorded as withdrawn. */
    async function withdrawnIds(): Promise<Set<string>> {
      const { rows } = await client.query<{ id: string }>(
        `SELECT CASE table_name WHEN 'transactions' THEN 't:' ELSE 'i:' END || fact_id AS id FROM production.withdrawn_facts
         UNION ALL
         SELECT 'f:' || fact_id FROM production.withdrawn_facts WHERE table_name = 'transaction_items'`,
      );
      return new Set(rows.map((r) => r.id));
    }

    before(async () => {
      test = await createTestBed({
        plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse],
        database: 'postgres',
      });
      client = new pg.Client({ connectionString: test.url! });
      await client.connect();
      await new DataGenerationStage().run(
        test.context(stageOptionsOf(DataGenerationStage)!.name, {
          config: CONFIG,
          runDate: RUN_DATE,
          dataDir: data,
        }) as never,
      );
      cpSync(raw, pristine, { recursive: true });
      for (const file of ['customers.csv', 'products.csv', 'transactions.csv', 'transaction_items.csv'])
        good[file] = readFileSync(join(raw, file), 'utf8');
      assert.equal((await runStages()).stage, null, 'the good data set loads');
      goodContents = await loadedContents();
    });

    after(async () => {
      await client?.end();
      await test?.dispose();
    });

    for (const c of CASES) {
      it(`${c.name}: ${c.expected.kind}; nothing committed is lost`, async () => {
        restoreRaw();
        c.mutate?.(good, raw);
        await c.production?.(client);
        const before = await loadedContents();
        const ids = await committedIds();
        const quality = {
          checks: Object.fromEntries((c.warnOnly ?? []).map((name) => [name, { severity: 'warn' }])),
        };
        const started = Date.now();
        const run = await runStages(quality);
        const seconds = (Date.now() - started) / 1000;
        let outcome: string;
        let lost = 'nothing: production and warehouse checksums unchanged';
        const expected = c.expected;
        if (expected.kind === 'refused') {
          assert.equal(run.stage, 'ingestion', JSON.stringify(run));
          const error = 'error' in run ? run.error : '';
          assert.ok(error.includes(join(raw, expected.file)), error);
          assert.match(error, new RegExp(`line ${expected.line}, column ${expected.column}:`));
          assert.deepEqual(await loadedContents(), before);
          outcome = `refused by ingestion: ${error.replace(raw + '/', '').slice(0, 120)}`;
        } else if (expected.kind === 'quarantined') {
          assert.equal(run.stage, 'quality-checks', JSON.stringify(run));
          const { rows } = await client.query<{ check_name: string; reason: string }>(
            `SELECT check_name, reason FROM pipeline.quarantine WHERE table_name = $1 ORDER BY check_name`,
            [`staging.${expected.table}`],
          );
          const row = rows.find((r) => r.check_name === expected.check);
          assert.ok(row, JSON.stringify(rows));
          assert.match('error' in run ? run.error : '', new RegExp(expected.check));
          assert.deepEqual(await loadedContents(), before);
          await client.query('DELETE FROM pipeline.quarantine');
          outcome = `quarantined as an error (${[...new Set(rows.map((r) => r.check_name))].join(', ')}): "${row.reason}"; gate closed`;
        } else if (expected.kind === 'past the gate') {
          assert.equal(run.stage, null, JSON.stringify(run));
          for (const check of c.warnOnly ?? [])
            assert.ok(
              run.warnings.some((w) => w.startsWith(`${check}: `) && w.includes('(warn)')),
              JSON.stringify(run.warnings),
            );
          const rowId = expected.rowId(good);
          const { rows } = await client.query<{ reason: string }>(
            `SELECT reason FROM production.rejected_rows WHERE table_name = $1 AND row_id = $2
           ORDER BY rejected_at DESC, id DESC LIMIT 1`,
            [expected.table, rowId],
          );
          assert.deepEqual(rows, [{ reason: expected.reason }]);
          assert.equal(
            await scalar(
              client,
              `SELECT count(*) AS v FROM production.products WHERE price = 'NaN' OR cost = 'NaN' OR profit_margin = 'NaN'`,
            ),
            '0',
          );
          // Every id gone from production is recorded as withdrawn by this rerun of its date.
          const withdrawn = await withdrawnIds();
          const gone = new Set(await committedIds());
          assert.deepEqual(
            ids.filter((id) => !gone.has(id) && !withdrawn.has(id)),
            [],
            'every id no longer loaded was withdrawn, on the record',
          );
          const left = ids.filter((id) => !gone.has(id)).length;
          // The good files again: the day comes back exactly as they load it.
          restoreRaw();
          assert.equal((await runStages()).stage, null, 'a rerun with the good files succeeds');
          assert.deepEqual(await loadedContents(), goodContents);
          outcome = `gate passed with a warning (${c.warnOnly!.join(', ')}); production-etl rejected ${rowId} (${expected.reason})${expected.reason === 'non_finite_number' ? ', so no NaN reached production or its averages' : ''}; the warehouse ran`;
          lost = `nothing silently: the rerun replaced the day, ${left} row(s) that depended on the bad one withdrawn on the record (production.withdrawn_facts); the rerun with the good files restored every checksum`;
        } else if (expected.kind === 'corrected') {
          assert.equal(run.stage, null, JSON.stringify(run));
          assert.ok(
            run.warnings.some((w) => /line_total\(s\) differed from round/.test(w)),
            JSON.stringify(run.warnings),
          );
          outcome = await expected.check(client);
          lost = 'nothing: every id kept';
        } else {
          const id = expected.transaction(good);
          const factsOf = (): Promise<string> =>
            scalar(client, `SELECT count(*) AS v FROM warehouse.fact_sales WHERE transaction_id = $1`, [id]);
          const otherFacts = (): Promise<string[]> =>
            client
              .query<{ f: string }>(
                `SELECT to_jsonb(f) - 'created_at' - 'sales_key' AS f FROM warehouse.fact_sales f
                 WHERE transaction_id <> $1 ORDER BY item_id`,
                [id],
              )
              .then((r) => r.rows.map((x) => JSON.stringify(x.f)));
          const facts = await otherFacts();
          assert.equal(run.stage, null, JSON.stringify(run));
          const warning = run.warnings.find((w) => expected.message.test(w));
          assert.ok(warning, JSON.stringify(run.warnings));
          assert.ok(seconds < 10, `at once (${seconds} s), not after building calendar rows`);
          assert.equal(await factsOf(), '0', 'its items are not in fact_sales');
          assert.deepEqual(await otherFacts(), facts, 'every other fact as it was');
          assert.equal((await runStages()).stage, null, 'the next run goes on too');
          await redate(client, id, expected.correctedDate(good));
          const corrected = await runStages();
          assert.equal(corrected.stage, null, JSON.stringify(corrected));
          assert.deepEqual(
            corrected.warnings.filter((w) => /set aside/.test(w)),
            [],
          );
          assert.equal(
            await factsOf(),
            await scalar(
              client,
              `SELECT count(*) AS v FROM production.transaction_items WHERE transaction_id = $1`,
              [id],
            ),
            'once corrected, every item of it is a fact',
          );
          assert.equal(await scalar(client, 'SELECT count(*) AS v FROM warehouse.sales_set_aside'), '0');
          const shown = warning.slice(warning.indexOf(': ') + 2, warning.indexOf(' (1900-01-01'));
          outcome = `set aside by the warehouse, every run going on: "${shown}: ${warning.slice(warning.indexOf('): ') + 3, warning.indexOf('. Their'))}", its items not in fact_sales; the first run after it was corrected by hand loaded them`;
          lost = 'nothing: every other fact unchanged; once corrected, its facts loaded';
        }
        const after = new Set(await committedIds());
        const withdrawn = await withdrawnIds();
        assert.deepEqual(
          ids.filter((id) => !after.has(id) && !id.includes('HAND') && !withdrawn.has(id)),
          [],
          'no committed id lost, but those a rerun of their date withdrew on the record',
        );
        recordFault({ suite: 'hostile values', fault: c.name, outcome, lost });
      });
    }
  },
);
