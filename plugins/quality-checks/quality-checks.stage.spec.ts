import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import {
  PermanentError,
  stageOptionsOf,
  type StageContext,
  type StageOutcome,
  type StageResult,
} from '@pipeline/kernel';
import {
  createTestBed,
  postgresUnavailable,
  type Database,
  type TestBed,
  type TestBedOptions,
} from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import productionEtl from '@pipeline/plugin-production-etl';
import qualityChecks from './index.js';
import { qualityScoreGauge } from './quality-checks.metrics.js';
import { CHECKS } from './quality-checks.catalog.js';
import { CLEAN_ROWS, CLEAN_STAGING } from './quality-checks.fixtures.js';
import type { QualityConfig } from './quality-checks.config.js';
import { QualityChecksStage } from './quality-checks.stage.js';

const STAGE = stageOptionsOf(QualityChecksStage)!;
const RUN_DATE = '2025-01-01';

/**
 * A fresh database with staging (ingestion's), the kernel's quarantine, and production's
 * business dates, which bound the dates the checks accept.
 */
const qualityBed = (database: TestBedOptions['database']) =>
  createTestBed({ plugins: [dataGeneration, ingestion, qualityChecks, productionEtl], database });

interface Quarantined {
  table_name: string;
  row_id: string | null;
  check_name: string;
  reason: string;
}

interface Outcome {
  ctx: StageContext<QualityConfig>;
  result: StageResult | null;
  error: unknown;
  quarantine: Quarantined[];
  report: Record<string, unknown> & {
    overall_quality_score: number;
    quality_grade: string;
    gate: { passed: boolean; reasons: string[] };
    checks: Array<{ name: string; severity: string; checked: number; failed: number; passed: boolean }>;
    checks_performed: Record<string, Record<string, Record<string, unknown>>>;
    quarantine: { rows: number; run_id: string };
  };
}

async function loadStaging(db: Database, defect = ''): Promise<void> {
  await db.pool.query(CLEAN_STAGING + defect);
}

async function quarantineOf(db: Database, runId: string): Promise<Quarantined[]> {
  const { rows } = await db.pool.query<Quarantined>(
    `SELECT table_name, row_id, check_name, reason FROM pipeline.quarantine WHERE run_id = $1
     ORDER BY check_name, row_id, reason`,
    [runId],
  );
  return rows;
}

async function runGate(
  bed: TestBed,
  quality: Record<string, unknown> = {},
  ctx?: StageContext<QualityConfig>,
): Promise<Outcome> {
  const db = bed.db;
  // Each run's metrics start from zero, so that a test reads what this run recorded.
  if (!ctx) bed.resetMetrics();
  const context = ctx ?? bed.context<QualityConfig>(STAGE.name, { config: { quality }, runDate: RUN_DATE });
  let result: StageResult | null = null;
  let error: unknown = null;
  try {
    result = await new QualityChecksStage().run(context);
  } catch (e) {
    error = e;
  }
  const report = JSON.parse(
    await readFile(join(context.paths.own, 'data_quality_report.json'), 'utf8'),
  ) as Outcome['report'];
  return { ctx: context, result, error, quarantine: await quarantineOf(db, context.runId), report };
}

const q = (table: string, row_id: string, check_name: string, reason: string): Quarantined => ({
  table_name: `staging.${table}`,
  row_id,
  check_name,
  reason,
});
const sorted = (rows: Quarantined[]): Quarantined[] =>
  [...rows].sort((a, b) =>
    `${a.check_name}|${a.row_id}|${a.reason}`.localeCompare(`${b.check_name}|${b.row_id}|${b.reason}`),
  );

interface PlantedDefect {
  readonly title: string;
  readonly defect: string;
  readonly expected: Quarantined[];
  /** Whether an error-severity check fails with the default config. */
  readonly closesGate: boolean;
}

const PLANTED: readonly PlantedDefect[] = [
  {
    title: 'quarantines both copies of a duplicated product id',
    defect: `INSERT INTO staging.products (product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id)
             VALUES ('PROD0002', 'Hoodie', 'Clothing', 'Tops', 45.00, 20.00, 'Wear', 5, 'SUP02');`,
    expected: [
      q('products', 'PROD0002', 'products_duplicate_id', 'product_id PROD0002 occurs 2 times'),
      q('products', 'PROD0002', 'products_duplicate_id', 'product_id PROD0002 occurs 2 times'),
    ],
    closesGate: true,
  },
  {
    title: 'quarantines both copies of a duplicated transaction id',
    defect: `INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount)
             VALUES ('TXN00002', 'CUST0002', '2024-03-02', 'UPI', 29.45);`,
    expected: [
      q('transactions', 'TXN00002', 'transactions_duplicate_id', 'transaction_id TXN00002 occurs 2 times'),
      q('transactions', 'TXN00002', 'transactions_duplicate_id', 'transaction_id TXN00002 occurs 2 times'),
    ],
    closesGate: true,
  },
  {
    title: 'finds an email repeated in another case and with spaces around it',
    defect: `INSERT INTO staging.customers (customer_id, first_name, last_name, email, registration_date)
             VALUES ('CUST0004', 'Ada', 'King', ' ADA@Example.COM ', '2024-02-02');`,
    expected: [
      q('customers', 'CUST0001', 'customers_duplicate_email', 'email ada@example.com is shared by 2 rows'),
      q('customers', 'CUST0004', 'customers_duplicate_email', 'email ada@example.com is shared by 2 rows'),
    ],
    closesGate: true,
  },
  {
    title: 'finds a transaction whose customer does not exist',
    defect: `INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount)
             VALUES ('TXN00005', 'CUST0099', '2024-05-05', 'UPI', 0.00);`,
    expected: [
      q(
        'transactions',
        'TXN00005',
        'transactions_orphan_customer',
        'customer_id CUST0099 not in staging.customers nor known before 2025-01-01',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds items whose transaction or product does not exist',
    defect: `INSERT INTO staging.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total)
             VALUES ('ITEM00007', 'TXN09999', 'PROD0002', 1, 20.00, 0, 20.00);
             UPDATE staging.transaction_items SET product_id = 'PROD0099' WHERE item_id = 'ITEM00003';`,
    expected: [
      q(
        'transaction_items',
        'ITEM00003',
        'transaction_items_orphan_product',
        'product_id PROD0099 not in staging.products nor known before 2025-01-01',
      ),
      q(
        'transaction_items',
        'ITEM00007',
        'transaction_items_orphan_transaction',
        'transaction_id TXN09999 not in staging.transactions nor loaded before 2025-01-01',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds a line total that is not quantity x price less discount',
    defect: `UPDATE staging.transaction_items SET line_total = 61.00 WHERE item_id = 'ITEM00002';
             UPDATE staging.transactions SET total_amount = 961.00 WHERE transaction_id = 'TXN00001';`,
    expected: [
      q(
        'transaction_items',
        'ITEM00002',
        'transaction_items_line_total',
        'line_total 61.00 differs from round(quantity * unit_price * (1 - discount_percentage / 100), 2) = 60.00',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds a total amount that is not the sum of its lines',
    defect: `UPDATE staging.transactions SET total_amount = 30.00 WHERE transaction_id = 'TXN00002';`,
    expected: [
      q(
        'transactions',
        'TXN00002',
        'transactions_total_amount',
        'total_amount 30.00 differs from the sum of its lines 29.45',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'accepts amounts that differ by no more than the tolerance',
    defect: `UPDATE staging.transactions SET total_amount = 29.46 WHERE transaction_id = 'TXN00002';
             UPDATE staging.transaction_items SET line_total = 899.99 WHERE item_id = 'ITEM00001';
             UPDATE staging.transactions SET total_amount = 959.99 WHERE transaction_id = 'TXN00001';`,
    expected: [],
    closesGate: false,
  },
  {
    title: 'finds a negative price (which is also not above its cost)',
    defect: `UPDATE staging.products SET price = -1.00 WHERE product_id = 'PROD0003';`,
    expected: [
      q('products', 'PROD0003', 'products_cost_below_price', 'cost 5.25 is not below price -1.00'),
      q('products', 'PROD0003', 'products_price_positive', 'price -1.00 is not above 0'),
    ],
    closesGate: true,
  },
  {
    title: 'finds a cost equal to the price',
    defect: `UPDATE staging.products SET cost = 1000.00 WHERE product_id = 'PROD0001';`,
    expected: [
      q('products', 'PROD0001', 'products_cost_below_price', 'cost 1000.00 is not below price 1000.00'),
    ],
    closesGate: true,
  },
  {
    title: 'finds a negative cost and a negative stock',
    defect: `UPDATE staging.products SET cost = -1.00 WHERE product_id = 'PROD0002';
             UPDATE staging.products SET stock_quantity = -5 WHERE product_id = 'PROD0003';`,
    expected: [
      q('products', 'PROD0002', 'products_cost_non_negative', 'cost -1.00 is below 0'),
      q('products', 'PROD0003', 'products_stock_non_negative', 'stock_quantity -5 is below 0'),
    ],
    closesGate: true,
  },
  {
    title: 'finds a zero quantity',
    defect: `UPDATE staging.transaction_items SET quantity = 0, line_total = 0.00 WHERE item_id = 'ITEM00005';
             UPDATE staging.transactions SET total_amount = 17.00 WHERE transaction_id = 'TXN00003';`,
    expected: [
      q('transaction_items', 'ITEM00005', 'transaction_items_quantity_positive', 'quantity 0 is not above 0'),
    ],
    closesGate: true,
  },
  {
    title: 'finds a discount of 150 %',
    defect: `UPDATE staging.transaction_items SET discount_percentage = 150, line_total = -10.00 WHERE item_id = 'ITEM00004';
             UPDATE staging.transactions SET total_amount = 5.50 WHERE transaction_id = 'TXN00003';`,
    expected: [
      q(
        'transaction_items',
        'ITEM00004',
        'transaction_items_discount_range',
        'discount_percentage 150 is outside 0..100',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds a transaction dated after the run date, and lets one dated on it pass (a warning)',
    defect: `UPDATE staging.transactions SET transaction_date = '2025-01-02' WHERE transaction_id = 'TXN00004';
             UPDATE staging.transactions SET transaction_date = '2025-01-01' WHERE transaction_id = 'TXN00003';`,
    expected: [
      q(
        'transactions',
        'TXN00004',
        'transactions_date_not_future',
        'transaction_date 2025-01-02 is after the run date 2025-01-01',
      ),
    ],
    closesGate: false,
  },
  {
    title: 'finds a registration after the run date and a malformed email (warnings)',
    defect: `UPDATE staging.customers SET registration_date = '2025-01-05', email = 'grace.example.com' WHERE customer_id = 'CUST0003';`,
    expected: [
      q(
        'customers',
        'CUST0003',
        'customers_email_format',
        'email grace.example.com is not shaped like local@domain.tld',
      ),
      q(
        'customers',
        'CUST0003',
        'customers_registration_not_future',
        'registration_date 2025-01-05 is after the run date 2025-01-01',
      ),
    ],
    closesGate: false,
  },
  {
    title: 'finds a NaN price, which compares above every number and so passes every price rule',
    defect: `UPDATE staging.products SET price = 'NaN' WHERE product_id = 'PROD0002';`,
    expected: [
      q('products', 'PROD0002', 'products_numbers_finite', 'not a finite number below 10^10: price NaN'),
    ],
    closesGate: true,
  },
  {
    title: 'finds an infinite cost, a NaN discount and a total of Infinity',
    defect: `UPDATE staging.products SET cost = 'Infinity' WHERE product_id = 'PROD0003';
             UPDATE staging.transaction_items SET discount_percentage = 'NaN' WHERE item_id = 'ITEM00002';
             UPDATE staging.transactions SET total_amount = 'Infinity' WHERE transaction_id = 'TXN00004';`,
    expected: [
      q('products', 'PROD0003', 'products_cost_below_price', 'cost Infinity is not below price 15.50'),
      q('products', 'PROD0003', 'products_numbers_finite', 'not a finite number below 10^10: cost Infinity'),
      q(
        'transaction_items',
        'ITEM00002',
        'transaction_items_discount_range',
        'discount_percentage NaN is outside 0..100',
      ),
      q(
        'transaction_items',
        'ITEM00002',
        'transaction_items_line_total',
        'line_total 60.00 differs from round(quantity * unit_price * (1 - discount_percentage / 100), 2) = NaN',
      ),
      q(
        'transaction_items',
        'ITEM00002',
        'transaction_items_numbers_finite',
        'not a finite number below 10^10: discount_percentage NaN',
      ),
      q(
        'transactions',
        'TXN00004',
        'transactions_numbers_finite',
        'not a finite number below 10^10: total_amount Infinity',
      ),
      q(
        'transactions',
        'TXN00004',
        'transactions_total_amount',
        'total_amount Infinity differs from the sum of its lines 1900.00',
      ),
    ],
    closesGate: true,
  },
  {
    title:
      'finds a line total of -Infinity and a unit price of 10^10, leaving the -Infinity out of its transaction’s sum',
    defect: `UPDATE staging.transaction_items SET line_total = '-Infinity' WHERE item_id = 'ITEM00005';
             UPDATE staging.transaction_items SET unit_price = 10000000000 WHERE item_id = 'ITEM00006';`,
    expected: [
      q(
        'transaction_items',
        'ITEM00005',
        'transaction_items_line_total',
        'line_total -Infinity differs from round(quantity * unit_price * (1 - discount_percentage / 100), 2) = 15.50',
      ),
      q(
        'transaction_items',
        'ITEM00005',
        'transaction_items_numbers_finite',
        'not a finite number below 10^10: line_total -Infinity',
      ),
      q(
        'transaction_items',
        'ITEM00006',
        'transaction_items_line_total',
        'line_total 1900.00 differs from round(quantity * unit_price * (1 - discount_percentage / 100), 2) = 19000000000.00',
      ),
      q(
        'transaction_items',
        'ITEM00006',
        'transaction_items_numbers_finite',
        'not a finite number below 10^10: unit_price 10000000000',
      ),
      q(
        'transactions',
        'TXN00003',
        'transactions_total_amount',
        'total_amount 32.50 differs from the sum of its lines 17.00',
      ),
    ],
    closesGate: true,
  },
  {
    title:
      'finds a price of 1000.005 and a line total of 17.004, which production would round, and accepts 15.500',
    defect: `UPDATE staging.products SET price = 1000.005 WHERE product_id = 'PROD0001';
             UPDATE staging.transaction_items SET line_total = 17.004 WHERE item_id = 'ITEM00004';
             UPDATE staging.transaction_items SET unit_price = 15.500 WHERE item_id = 'ITEM00005';`,
    expected: [
      q(
        'products',
        'PROD0001',
        'products_numbers_exact',
        'more than two decimals (production would round): price 1000.005',
      ),
      q(
        'transaction_items',
        'ITEM00004',
        'transaction_items_numbers_exact',
        'more than two decimals (production would round): line_total 17.004',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds a discount of 5.001 % and a total of 29.454, each within the tolerance but not exact',
    defect: `UPDATE staging.transaction_items SET discount_percentage = 5.001 WHERE item_id = 'ITEM00003';
             UPDATE staging.transactions SET total_amount = 29.454 WHERE transaction_id = 'TXN00002';`,
    expected: [
      q(
        'transaction_items',
        'ITEM00003',
        'transaction_items_numbers_exact',
        'more than two decimals (production would round): discount_percentage 5.001',
      ),
      q(
        'transactions',
        'TXN00002',
        'transactions_numbers_exact',
        'more than two decimals (production would round): total_amount 29.454',
      ),
    ],
    closesGate: true,
  },
  {
    title:
      'finds transaction dates of -infinity, the year 1000 and 99999 outside the plausible window (errors), and accepts the window’s last day with a warning',
    defect: `UPDATE staging.transactions SET transaction_date = '-infinity' WHERE transaction_id = 'TXN00001';
             UPDATE staging.transactions SET transaction_date = '1000-01-01' WHERE transaction_id = 'TXN00002';
             UPDATE staging.transactions SET transaction_date = '99999-01-01' WHERE transaction_id = 'TXN00003';
             UPDATE staging.transactions SET transaction_date = '2025-01-08' WHERE transaction_id = 'TXN00004';`,
    expected: [
      q(
        'transactions',
        'TXN00001',
        'transactions_date_plausible',
        'transaction_date -infinity is outside the plausible window 1970-01-01..2025-01-08',
      ),
      q(
        'transactions',
        'TXN00002',
        'transactions_date_plausible',
        'transaction_date 1000-01-01 is outside the plausible window 1970-01-01..2025-01-08',
      ),
      q(
        'transactions',
        'TXN00003',
        'transactions_date_plausible',
        'transaction_date 99999-01-01 is outside the plausible window 1970-01-01..2025-01-08',
      ),
      q(
        'transactions',
        'TXN00003',
        'transactions_date_not_future',
        'transaction_date 99999-01-01 is after the run date 2025-01-01',
      ),
      q(
        'transactions',
        'TXN00004',
        'transactions_date_not_future',
        'transaction_date 2025-01-08 is after the run date 2025-01-01',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds a registration date of infinity and one the day before 1970 outside the plausible window',
    defect: `UPDATE staging.customers SET registration_date = 'infinity' WHERE customer_id = 'CUST0001';
             UPDATE staging.customers SET registration_date = '1969-12-31' WHERE customer_id = 'CUST0002';`,
    expected: [
      q(
        'customers',
        'CUST0001',
        'customers_registration_not_future',
        'registration_date infinity is after the run date 2025-01-01',
      ),
      q(
        'customers',
        'CUST0001',
        'customers_registration_plausible',
        'registration_date infinity is outside the plausible window 1970-01-01..2025-01-08',
      ),
      q(
        'customers',
        'CUST0002',
        'customers_registration_plausible',
        'registration_date 1969-12-31 is outside the plausible window 1970-01-01..2025-01-08',
      ),
    ],
    closesGate: true,
  },
  {
    title: 'finds blank and NULL mandatory fields, naming each',
    defect: `UPDATE staging.customers SET last_name = '   ' WHERE customer_id = 'CUST0002';
             UPDATE staging.products SET product_name = '', category = NULL WHERE product_id = 'PROD0002';`,
    expected: [
      q('customers', 'CUST0002', 'customers_missing_values', 'blank mandatory field(s): last_name'),
      q(
        'products',
        'PROD0002',
        'products_missing_values',
        'blank mandatory field(s): product_name, category',
      ),
    ],
    closesGate: true,
  },
];

describe('quality-checks stage on PostgreSQL', { skip: await postgresUnavailable() }, () => {
  let database: TestBed;
  let db: Database;
  before(async () => {
    database = await qualityBed('postgres');
    db = database.db;
  });
  after(async () => database?.dispose());

  it('scores a clean staging set 100, grade A, with an empty quarantine and the report in the original key order', async () => {
    await loadStaging(db);
    const { result, error, quarantine, report, ctx } = await runGate(database);
    assert.equal(error, null);
    assert.deepEqual(quarantine, []);
    assert.equal(report.overall_quality_score, 100);
    assert.equal(report.quality_grade, 'A');
    assert.deepEqual(Object.keys(report).slice(0, 4), [
      'check_timestamp',
      'checks_performed',
      'overall_quality_score',
      'quality_grade',
    ]);
    assert.equal(report.check_timestamp, RUN_DATE);
    assert.deepEqual(Object.keys(report.checks_performed), [
      'null_checks',
      'duplicate_checks',
      'referential_integrity',
      'data_consistency',
      'range_checks',
    ]);
    assert.deepEqual(report.checks_performed.null_checks!.customers, {
      check: 'customers_missing_values',
      checked: 3,
      failed: 0,
      passed: true,
      columns: { customer_id: 0, first_name: 0, last_name: 0, email: 0, registration_date: 0 },
    });
    assert.deepEqual(report.checks_performed.referential_integrity!.transaction_items, {
      transaction_id: { check: 'transaction_items_orphan_transaction', checked: 6, failed: 0, passed: true },
      product_id: { check: 'transaction_items_orphan_product', checked: 6, failed: 0, passed: true },
    });
    assert.equal(report.checks.length, 31);
    assert.deepEqual(report.gate, { passed: true, reasons: [] });
    assert.equal(report.run_id, ctx.runId);
    assert.deepEqual(report.quarantine.rows, 0);
    assert.deepEqual(result?.rows, [
      { table: 'staging.customers', read: CLEAN_ROWS.customers, rejected: 0 },
      { table: 'staging.products', read: CLEAN_ROWS.products, rejected: 0 },
      { table: 'staging.transactions', read: CLEAN_ROWS.transactions, rejected: 0 },
      { table: 'staging.transaction_items', read: CLEAN_ROWS.transaction_items, rejected: 0 },
    ]);
    assert.deepEqual(result?.files, ['quality/data_quality_report.json']);
    assert.equal((await ctx.metrics.get(qualityScoreGauge).get()).values[0]?.value, 100);
  });

  for (const planted of PLANTED) {
    it(planted.title, async () => {
      await loadStaging(db, planted.defect);
      const { error, quarantine, report } = await runGate(database);
      assert.deepEqual(quarantine, sorted(planted.expected));
      assert.equal(report.quarantine.rows, planted.expected.length);
      for (const check of report.checks) {
        assert.equal(
          check.failed,
          planted.expected.filter((e) => e.check_name === check.name).length,
          check.name,
        );
      }
      if (planted.closesGate) {
        assert.ok(error instanceof PermanentError, `expected the gate to close, got ${String(error)}`);
        const errorChecks = planted.expected
          .map((e) => CHECKS.find((c) => c.name === e.check_name)!)
          .filter((c) => c.defaultSeverity === 'error');
        for (const name of new Set(errorChecks.map((c) => c.name)))
          assert.match(error.message, new RegExp(name));
      } else {
        assert.equal(error, null);
      }
    });
  }

  it('quarantines, with every check failing at once, exactly the rows each check file quarantines on its own', async () => {
    // The fast pass decides which checks run; this guards its rules against drifting from the
    // check files: any check it misses or over-reports would change the quarantine here.
    const extra = `
      INSERT INTO staging.customers (customer_id, first_name, last_name, email, registration_date)
        VALUES ('CUST0002', 'Alan', 'Twin', 'alan.twin@example.com', '2023-06-01');
      INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount)
        VALUES ('TXN00001', 'CUST0001', '2024-03-01', ' ', 960.00),
               (NULL, 'CUST0001', '2024-03-01', 'UPI', 5.00);
      INSERT INTO staging.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total)
        VALUES ('ITEM00001', 'TXN00004', 'PROD0001', NULL, 1000.00, 5, 1900.00),
               ('ITEM00042', '  ', 'PROD0001', 1, 1000.00, 0, 1000.00),
               ('ITEM00043', NULL, '', 1, 1000.00, 0, 1000.00);`;
    await loadStaging(db, PLANTED.map((p) => p.defect).join('\n') + extra);
    const { ctx, quarantine } = await runGate(database);
    assert.ok(quarantine.length > 0);

    const alone = database.context<QualityConfig>(STAGE.name, { runDate: RUN_DATE });
    for (const check of CHECKS) {
      const values = {
        runDate: RUN_DATE,
        tolerance: '0.01',
        earliestDate: '1970-01-01',
        latestDate: '2025-01-08',
      };
      const sql = readFileSync(new URL(`./sql/${check.name}.sql`, import.meta.url), 'utf8');
      await db.pool.query(sql, [alone.runId, ...check.parameters.map((p) => values[p])]);
    }
    const rowsOf = async (runId: string) =>
      (
        await db.pool.query<{ row: string }>(
          `SELECT (table_name, row_id, check_name, reason, row_data)::text AS row FROM pipeline.quarantine
           WHERE run_id = $1 ORDER BY 1`,
          [runId],
        )
      ).rows.map((r) => r.row);
    const expected = await rowsOf(alone.runId);
    assert.deepEqual(await rowsOf(ctx.runId), expected);
    const failingChecks = new Set(quarantine.map((r) => r.check_name));
    assert.deepEqual(
      CHECKS.map((c) => c.name).filter((name) => !failingChecks.has(name)),
      [],
      'every check fails somewhere in this data set',
    );
    await db.pool.query('DELETE FROM pipeline.quarantine WHERE run_id = $1', [alone.runId]);
  });

  it('counts blank mandatory fields per column in the report', async () => {
    await loadStaging(db, PLANTED.find((p) => p.title.startsWith('finds blank'))!.defect);
    const { report } = await runGate(database);
    assert.deepEqual(report.checks_performed.null_checks!.products, {
      check: 'products_missing_values',
      checked: 3,
      failed: 1,
      passed: false,
      columns: { product_id: 0, product_name: 1, category: 1, price: 0, cost: 0 },
    });
  });

  it('closes the gate on an error-severity failure only after committing the quarantine and writing the report', async () => {
    await loadStaging(
      db,
      `UPDATE staging.transactions SET customer_id = 'CUST0042' WHERE transaction_id = 'TXN00002';`,
    );
    const { error, quarantine, report, ctx } = await runGate(database);
    assert.ok(error instanceof PermanentError);
    assert.match(
      error.message,
      /transactions_orphan_customer failed 1 of 4 rows of staging\.transactions \(threshold 0\)/,
    );
    assert.match(error.message, new RegExp(ctx.runId));
    assert.deepEqual(quarantine, [
      q(
        'transactions',
        'TXN00002',
        'transactions_orphan_customer',
        'customer_id CUST0042 not in staging.customers nor known before 2025-01-01',
      ),
    ]);
    assert.deepEqual(report.gate, {
      passed: false,
      reasons: ['transactions_orphan_customer failed 1 of 4 rows of staging.transactions (threshold 0)'],
    });
    // referential: 1 of 16 pairs fails -> 93.75; overall = 100 - 30 * 6.25 / 100
    assert.equal(report.overall_quality_score, 98.13);
    const { rows } = await db.pool.query<{ row_data: { customer_id: string; total_amount: number } }>(
      'SELECT row_data FROM pipeline.quarantine WHERE run_id = $1',
      [ctx.runId],
    );
    assert.equal(rows[0]?.row_data.customer_id, 'CUST0042');
    assert.equal(rows[0]?.row_data.total_amount, 29.45);
    const rejected = await database.metrics.rowsTotal.get();
    assert.deepEqual(
      rejected.values.filter((v) => v.value > 0).map((v) => [v.labels.table, v.labels.kind, v.value]),
      [['staging.transactions', 'rejected', 1]],
    );
  });

  it('lets a warn-severity failure through with a warning and a lower score', async () => {
    await loadStaging(
      db,
      `UPDATE staging.transactions SET transaction_date = '2025-01-02' WHERE transaction_id = 'TXN00004';`,
    );
    const { error, result, report } = await runGate(database);
    assert.equal(error, null);
    assert.deepEqual(result?.warnings, [
      'transactions_date_not_future: 1 of 4 rows of staging.transactions failed (warn); quarantined',
    ]);
    assert.deepEqual(result?.details?.failedChecks, ['transactions_date_not_future (warn)']);
    // ranges: 1 failing of 67 (row, check) pairs -> 98.5075; overall = 100 - 15 * 1.4925 / 100
    assert.equal(report.overall_quality_score, 99.78);
    assert.deepEqual(
      result?.rows?.find((r) => r.table === 'staging.transactions'),
      { table: 'staging.transactions', read: 4, rejected: 1 },
    );
  });

  it('closes the gate when the score is below min_score, even with only warnings', async () => {
    await loadStaging(
      db,
      `UPDATE staging.transactions SET transaction_date = '2025-01-02' WHERE transaction_id = 'TXN00004';`,
    );
    const { error, report } = await runGate(database, { min_score: 99.8 });
    assert.ok(error instanceof PermanentError);
    assert.match(error.message, /score 99\.78 is below min_score 99\.8/);
    assert.deepEqual(report.gate, { passed: false, reasons: ['score 99.78 is below min_score 99.8'] });
  });

  it('takes severity and threshold from config', async () => {
    await loadStaging(db, `UPDATE staging.products SET cost = 1000.00 WHERE product_id = 'PROD0001';`);
    const within = await runGate(database, { checks: { products_cost_below_price: { threshold: 0.34 } } });
    assert.equal(within.error, null);
    const beyond = await runGate(database, { checks: { products_cost_below_price: { threshold: 0.33 } } });
    assert.ok(beyond.error instanceof PermanentError);
    const warned = await runGate(database, { checks: { products_cost_below_price: { severity: 'warn' } } });
    assert.equal(warned.error, null);
    assert.equal(warned.report.checks.find((c) => c.name === 'products_cost_below_price')?.severity, 'warn');
    assert.equal(warned.quarantine.length, 1);
  });

  it('commits nothing when the attempt dies at its checkpoint', async () => {
    await loadStaging(
      db,
      `UPDATE staging.transactions SET total_amount = 30.00 WHERE transaction_id = 'TXN00002';`,
    );
    const ctx = database.context<QualityConfig>(STAGE.name, { runDate: RUN_DATE });
    const points: string[] = [];
    const crashing = {
      ...ctx,
      checkpoint: async (point: string) => {
        points.push(point);
        throw new Error(`crash at ${point}`);
      },
    };
    await assert.rejects(new QualityChecksStage().run(crashing), /crash at quality-checks:quarantined/);
    assert.deepEqual(points, ['quality-checks:quarantined']);
    assert.deepEqual(await quarantineOf(db, ctx.runId), []);
  });

  it('gives the same report for the same data and run date, apart from run id and timings', async () => {
    await loadStaging(db, `UPDATE staging.products SET cost = 1000.00 WHERE product_id = 'PROD0001';`);
    const comparable = ({ report }: Outcome) => {
      const { run_id: _runId, generated_at: _at, quarantine, checks, ...rest } = report;
      return {
        ...rest,
        quarantine: { ...quarantine, run_id: null, query: null },
        checks: checks.map((c) => ({ ...c, duration_ms: null })),
      };
    };
    assert.deepEqual(comparable(await runGate(database)), comparable(await runGate(database)));
  });

  describe('with a date loaded before the run date', () => {
    before(async () => {
      await db.pool.query(`INSERT INTO production.business_dates (business_date) VALUES ('2024-12-30')`);
    });
    after(async () => {
      await db.pool.query(`DELETE FROM production.business_dates`);
    });

    it("refuses an earlier date's files before any check, naming the file ingestion staged, and quarantines nothing", async () => {
      await loadStaging(db);
      const ingested: StageOutcome = {
        stage: 'ingestion',
        status: 'succeeded',
        attempts: 1,
        durationMs: 1,
        error: null,
        result: {
          outputs: {
            'staged-input': { files: { 'staging.transactions': 'raw/2025-01-01/transactions.csv' } },
          },
        },
      };
      const ctx = database.context<QualityConfig>(STAGE.name, {
        runDate: RUN_DATE,
        earlierStages: [ingested],
      });
      await assert.rejects(new QualityChecksStage().run(ctx), (error: unknown) => {
        assert.ok(error instanceof PermanentError);
        assert.match(
          error.message,
          /^raw\/2025-01-01\/transactions\.csv holds sales dated 2024-03-01\.\.2024-12-31, none on the run date 2025-01-01 /,
        );
        return true;
      });
      assert.deepEqual(await quarantineOf(db, ctx.runId), []);
    });

    it("accepts the run date's sales with older ones beside them (late lines)", async () => {
      await loadStaging(
        db,
        `UPDATE staging.transactions SET transaction_date = '2025-01-01' WHERE transaction_id = 'TXN00004';`,
      );
      const { error, report } = await runGate(database);
      assert.equal(error, null);
      assert.equal(report.overall_quality_score, 100);
    });
  });

  it('does not duplicate quarantine rows when the same run is retried', async () => {
    await loadStaging(
      db,
      `UPDATE staging.transactions SET total_amount = 30.00 WHERE transaction_id = 'TXN00002';`,
    );
    const first = await runGate(database);
    const second = await runGate(database, {}, first.ctx);
    assert.ok(second.error instanceof PermanentError);
    assert.equal(second.quarantine.length, 1);
    assert.deepEqual(second.quarantine, first.quarantine);
  });
});

describe('quality-checks stage on the embedded database', () => {
  let database: TestBed;
  before(async () => {
    database = await qualityBed('embedded');
  });
  after(async () => database?.dispose());

  it('scores a clean staging set 100, grade A, with an empty quarantine', async () => {
    await loadStaging(database.db);
    const { error, quarantine, report } = await runGate(database);
    assert.equal(error, null);
    assert.deepEqual(quarantine, []);
    assert.equal(report.overall_quality_score, 100);
    assert.equal(report.quality_grade, 'A');
    assert.equal(report.checks.filter((c) => c.passed).length, 31);
  });
});
