import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PermanentError, stageOptionsOf } from '@pipeline/kernel';
import {
  createTestBed,
  postgresUnavailable,
  type TestBed,
  type TestBedOptions,
} from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import productionEtl from '@pipeline/plugin-production-etl';
import qualityChecks from '@pipeline/plugin-quality-checks';
import warehouse from '@pipeline/plugin-warehouse';
import analytics from './index.js';
import { AnalyticsStage } from './analytics.stage.js';
import type { AnalyticsSettings } from './analytics.config.js';
import { csvField, exportQueryToCsv, withLiterals } from './csv-export.js';

/*
 * A hand-made warehouse small enough to compute every figure on paper:
 * - C1 moved from Austin TX (key 1) to Denver CO (key 2) on 2024-03-01; C2's name needs CSV quoting;
 * - P1 was renamed "Laptop Pro" (key 2); P3 moved from "Home & Kitchen" (key 4) to "Kitchen" (key 5);
 *   P4 left the source (its only version is closed) and its name holds a comma.
 * Six transactions, nine items; total revenue 2083.85.
 */
const FIXTURE = `
INSERT INTO warehouse.dim_date (date_key, full_date, year, quarter, month, day, month_name, day_name, week_of_year, is_weekend)
SELECT to_char(d, 'YYYYMMDD')::int, d, extract(year FROM d), extract(quarter FROM d), extract(month FROM d), extract(day FROM d),
       to_char(d, 'FMMonth'), to_char(d, 'FMDay'), extract(week FROM d), extract(isodow FROM d) >= 6
FROM generate_series(DATE '2024-01-01', DATE '2024-12-31', interval '1 day') AS g(d);

INSERT INTO warehouse.dim_payment_method (payment_method_key, payment_method_name, payment_type) VALUES
  (1, 'Credit Card', 'Online'), (2, 'Cash on Delivery', 'Offline'), (3, 'UPI', 'Online');

INSERT INTO warehouse.dim_customers (customer_key, customer_id, full_name, email, city, state, country, age_group, customer_segment, registration_date, effective_date, end_date, is_current) VALUES
  (1, 'C1', 'Ann Lee', 'ann@example.com', 'Austin', 'TX', 'USA', '25-34', 'Silver', '2023-06-01', '2023-06-01', '2024-03-01', false),
  (2, 'C1', 'Ann Lee', 'ann@example.com', 'Denver', 'CO', 'USA', '25-34', 'Gold', '2023-06-01', '2024-03-01', '9999-12-31', true),
  (3, 'C2', 'Bob "Bobby" Smith, Jr.', 'bob@example.com', 'Houston', 'TX', 'USA', '35-44', 'Silver', '2023-01-01', '2023-01-01', '9999-12-31', true),
  (4, 'C3', 'Cy Young', 'cy@example.com', 'San Diego', 'CA', 'USA', '18-24', 'Bronze', '2023-01-01', '2023-01-01', '9999-12-31', true),
  (5, 'C4', 'Di Ng', 'di@example.com', 'Los Angeles', 'CA', 'USA', '45-54', NULL, '2023-01-01', '2023-01-01', '9999-12-31', true);

INSERT INTO warehouse.dim_products (product_key, product_id, product_name, category, sub_category, brand, price_range, effective_date, end_date, is_current) VALUES
  (1, 'P1', 'Laptop', 'Electronics', 'Computers', 'Acme', 'Premium', '2023-01-01', '2024-02-15', false),
  (2, 'P1', 'Laptop Pro', 'Electronics', 'Computers', 'Acme', 'Premium', '2024-02-15', '9999-12-31', true),
  (3, 'P2', 'Novel', 'Books', 'Fiction', 'Pub', 'Budget', '2023-01-01', '9999-12-31', true),
  (4, 'P3', 'Mug', 'Home & Kitchen', 'Dining', 'Cups', 'Budget', '2023-01-01', '2024-03-01', false),
  (5, 'P3', 'Mug', 'Kitchen', 'Dining', 'Cups', 'Budget', '2024-03-01', '9999-12-31', true),
  (6, 'P4', 'Atlas, World', 'Books', 'Reference', 'Maps', 'Budget', '2023-01-01', '2024-04-01', false);

INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit, discount_percentage)
  SELECT v.*, round(v.discount_amount / (v.quantity * v.unit_price) * 100, 2) FROM (VALUES
  ('I1', 20240115, 1, 1, 1, 'T1', 1, 1000.00, 100.00, 900.00, 200.00),
  ('I2', 20240115, 1, 3, 1, 'T1', 2,   15.00,   0.00,  30.00,  10.00),
  ('I3', 20240120, 3, 4, 2, 'T2', 4,   12.50,   2.50,  47.50,  27.50),
  ('I4', 20240210, 4, 6, 3, 'T3', 3,   20.00,   9.00,  51.00,  27.00),
  ('I5', 20240210, 4, 3, 3, 'T3', 1,   15.00,   0.00,  15.00,   5.00),
  ('I6', 20240305, 2, 2, 1, 'T4', 1, 1200.00, 240.00, 960.00, 160.00),
  ('I7', 20240305, 5, 5, 1, 'T5', 2,   12.50,   0.00,  25.00,  15.00),
  ('I8', 20240316, 3, 3, 3, 'T6', 3,   15.00,   1.35,  43.65,  13.65),
  ('I9', 20240316, 3, 5, 3, 'T6', 1,   13.00,   1.30,  11.70,   6.70)) AS v(item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit);
`;

const csv = (...lines: string[]): string => lines.map((l) => `${l}\n`).join('');

const EXPECTED: Record<string, string> = {
  query1_top_products: csv(
    'revenue_rank,product_id,product_name,category,brand,units_sold,transactions,revenue,profit,revenue_share_pct',
    '1,P1,Laptop Pro,Electronics,Acme,2,2,1860.00,360.00,89.26',
    '2,P2,Novel,Books,Pub,6,3,88.65,28.65,4.25',
    '3,P3,Mug,Kitchen,Cups,7,3,84.20,49.20,4.04',
  ),
  query2_monthly_trend: csv(
    'month,transactions,customers,units_sold,revenue,profit,avg_order_value,revenue_growth_pct,cumulative_revenue',
    '2024-01,2,2,7,977.50,237.50,488.75,,977.50',
    '2024-02,1,1,4,66.00,32.00,66.00,-93.25,1043.50',
    '2024-03,3,3,7,1040.35,195.35,346.78,1476.29,2083.85',
  ),
  query3_customer_segmentation: csv(
    'segment,customers,customer_share_pct,min_spend,max_spend,avg_spend,revenue,revenue_share_pct,transactions,avg_order_value',
    'Platinum,1,25.00,1890.00,1890.00,1890.00,1890.00,90.70,2,945.00',
    'Gold,0,0.00,,,,0.00,0.00,0,',
    'Silver,1,25.00,102.85,102.85,102.85,102.85,4.94,2,51.43',
    'Bronze,2,50.00,25.00,66.00,45.50,91.00,4.37,2,45.50',
  ),
  query4_category_performance: csv(
    'revenue_rank,category,products_sold,transactions,units_sold,revenue,profit,discount_total,profit_margin_pct,avg_unit_revenue,revenue_share_pct',
    '1,Electronics,1,2,2,1860.00,360.00,340.00,19.35,930.00,89.26',
    '2,Books,2,3,9,139.65,55.65,10.35,39.85,15.52,6.70',
    '3,Home & Kitchen,1,1,4,47.50,27.50,2.50,57.89,11.88,2.28',
    '4,Kitchen,1,2,3,36.70,21.70,1.30,59.13,12.23,1.76',
  ),
  query5_payment_methods: csv(
    'payment_method,payment_type,transactions,transaction_share_pct,revenue,revenue_share_pct,avg_order_value',
    'Credit Card,Online,3,50.00,1915.00,91.90,638.33',
    'UPI,Online,2,33.33,121.35,5.82,60.68',
    'Cash on Delivery,Offline,1,16.67,47.50,2.28,47.50',
  ),
  query6_geographic_analysis: csv(
    'revenue_rank,country,state,customers,transactions,revenue,profit,avg_order_value,revenue_per_customer,revenue_share_pct',
    '1,USA,TX,2,3,1032.85,257.85,344.28,516.43,49.56',
    '2,USA,CO,1,1,960.00,160.00,960.00,960.00,46.07',
    '3,USA,CA,2,2,91.00,47.00,45.50,45.50,4.37',
  ),
  query7_customer_lifetime_value: csv(
    'value_rank,customer_id,full_name,city,state,customer_segment,first_purchase_date,last_purchase_date,transactions,units_bought,total_spent,total_profit,avg_order_value,recency_days,tenure_days,annualized_value',
    '1,C1,Ann Lee,Denver,CO,Gold,2024-01-15,2024-03-05,2,4,1890.00,370.00,945.00,302,353,1954.25',
    '2,C2,"Bob ""Bobby"" Smith, Jr.",Houston,TX,Silver,2024-01-20,2024-03-16,2,8,102.85,47.85,51.43,291,348,107.87',
    '3,C3,Cy Young,San Diego,CA,Bronze,2024-02-10,2024-02-10,1,4,66.00,32.00,66.00,326,327,73.67',
    '4,C4,Di Ng,Los Angeles,CA,,2024-03-05,2024-03-05,1,2,25.00,15.00,25.00,302,303,30.12',
  ),
  query8_product_profitability: csv(
    'profit_rank,category_profit_rank,product_id,product_name,category,brand,units_sold,revenue,cost,profit,discount_total,profit_margin_pct,profit_per_unit',
    '1,1,P1,Laptop Pro,Electronics,Acme,2,1860.00,1500.00,360.00,340.00,19.35,180.00',
    '2,1,P3,Mug,Kitchen,Cups,7,84.20,35.00,49.20,3.80,58.43,7.03',
    '3,1,P2,Novel,Books,Pub,6,88.65,60.00,28.65,1.35,32.32,4.78',
    '4,2,P4,"Atlas, World",Books,Maps,3,51.00,24.00,27.00,9.00,52.94,9.00',
  ),
  query9_day_of_week: csv(
    'day_of_week,day_name,days,transactions,revenue,avg_daily_revenue,avg_daily_transactions,avg_order_value,revenue_share_pct',
    '1,Monday,9,1,930.00,103.33,0.11,930.00,44.63',
    '2,Tuesday,9,2,985.00,109.44,0.22,492.50,47.27',
    '3,Wednesday,9,0,0.00,0.00,0.00,,0.00',
    '4,Thursday,9,0,0.00,0.00,0.00,,0.00',
    '5,Friday,9,0,0.00,0.00,0.00,,0.00',
    '6,Saturday,9,3,168.85,18.76,0.33,56.28,8.10',
    '7,Sunday,8,0,0.00,0.00,0.00,,0.00',
  ),
  query10_discount_impact: csv(
    'discount_band,line_items,transactions,units_sold,gross_revenue,discount_total,net_revenue,profit,avg_discount_pct,profit_margin_pct,revenue_share_pct',
    '0%,3,3,5,70.00,0.00,70.00,30.00,0.00,42.86,3.36',
    '1-5%,2,2,7,95.00,3.85,91.15,41.15,4.05,45.15,4.37',
    '6-10%,2,2,2,1013.00,101.30,911.70,206.70,10.00,22.67,43.75',
    '11-15%,1,1,3,60.00,9.00,51.00,27.00,15.00,52.94,2.45',
    '>15%,1,1,1,1200.00,240.00,960.00,160.00,20.00,16.67,46.07',
  ),
};

describe('CSV fields', () => {
  it('quotes per RFC 4180 and tells NULL (empty) from an empty string ("")', () => {
    assert.deepEqual(
      [null, '', 'plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', 42, '-0.50'].map(csvField),
      ['', '""', 'plain', '"a,b"', '"say ""hi"""', '"two\nlines"', '"cr\r"', '42', '-0.50'],
    );
  });

  it('quotes a lone \\. as COPY does (its end-of-data marker), and only a lone one', () => {
    assert.deepEqual(['\\.', '\\.x', 'a\\.'].map(csvField), ['"\\."', '\\.x', 'a\\.']);
  });
});

describe('parameters of an export by COPY', () => {
  it('become quoted literals in the text form the driver sends, arrays included', () => {
    assert.equal(
      withLiterals('SELECT $1::date, $2::text[], $3::numeric[], $4::int, $1::date, $5::text', [
        '2025-01-01',
        ['Plat "1"', "O'Neil"],
        ['0.9', '0'],
        10,
        null,
      ]),
      // (node-postgres writes an escaped literal with a leading space: " E'...'")
      `SELECT '2025-01-01'::date,  E'{"Plat \\\\"1\\\\"","O''Neil"}'::text[], '{"0.9","0"}'::numeric[], '10'::int, '2025-01-01'::date, NULL::text`,
    );
  });

  it('refuses a placeholder without its parameter, and leaves $10 apart from $1', () => {
    assert.throws(() => withLiterals('SELECT $2::int', [1]), /\$2 has no parameter/);
    assert.throws(() => withLiterals('SELECT $10::int', [1]), /\$10 has no parameter/);
  });
});

const stage = new AnalyticsStage();
const options = stageOptionsOf(AnalyticsStage)!;

/** A fresh database with the warehouse it reads (and the plugins upstream of it) and its own. */
const analyticsBed = (database: TestBedOptions['database']) =>
  createTestBed({
    plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse, analytics],
    database,
  });

describe('analytics stage on a hand-made warehouse', { skip: await postgresUnavailable() }, () => {
  let test: TestBed;

  before(async () => {
    test = await analyticsBed('postgres');
    await test.db.pool.query(FIXTURE);
  });
  after(async () => {
    await test?.dispose();
  });

  const run = async (config: Record<string, unknown>, dir?: string, runDate = '2025-01-01') => {
    // A run sees the exports of an earlier one only when a test hands it that run's folder.
    const ctx = test.context<AnalyticsSettings>(options.name, {
      config,
      runDate,
      dataDir: dir ?? test.newDataDir(),
    });
    const result = await stage.run(ctx);
    return { ctx, result };
  };

  it('exports each query with the hand-computed figures, exact decimals and RFC 4180 quoting', async () => {
    const { ctx } = await run({ analytics: { top_products_limit: 3 } });
    for (const [name, expected] of Object.entries(EXPECTED)) {
      assert.equal(await readFile(join(ctx.paths.own, `${name}.csv`), 'utf8'), expected, name);
    }
  });

  it('leaves no temporary file and writes a summary with rows, columns and timings', async () => {
    const { ctx, result } = await run({ analytics: { top_products_limit: 3 } });
    const files = (await readdir(ctx.paths.own)).sort();
    assert.deepEqual(
      files,
      [...Object.keys(EXPECTED).map((n) => `${n}.csv`), 'analytics_summary.json'].sort(),
    );
    const summary = JSON.parse(await readFile(join(ctx.paths.own, 'analytics_summary.json'), 'utf8')) as {
      run_date: string;
      queries: Array<{ query: string; file: string; rows: number; columns: string[]; ms: number }>;
    };
    assert.equal(summary.run_date, '2025-01-01');
    assert.deepEqual(
      summary.queries.map((q) => [q.query, q.file, q.rows, q.columns.join(',')]),
      Object.entries(EXPECTED).map(([name, text]) => {
        const lines = text.trimEnd().split('\n');
        return [name, `${name}.csv`, lines.length - 1, lines[0]];
      }),
    );
    assert.ok(summary.queries.every((q) => Number.isInteger(q.ms) && q.ms >= 0));
    assert.equal(result.files?.length, 11);
    assert.deepEqual(result.rows?.[0], { table: 'query1_top_products', read: 3, written: 3 });
  });

  it('writes byte-identical files when run again, whatever the fetch batch size', async () => {
    const first = await run({});
    const second = await run({});
    // Two rows per round trip: several batches per file, one ending exactly on a batch boundary.
    const batched = await run({ analytics: { fetch_batch_rows: 2 } });
    for (const name of Object.keys(EXPECTED)) {
      const a = await readFile(join(first.ctx.paths.own, `${name}.csv`));
      for (const other of [second, batched]) {
        const b = await readFile(join(other.ctx.paths.own, `${name}.csv`));
        assert.ok(a.equals(b), `${name} differs between runs`);
      }
    }
    // The default limit of 10 lists all four products.
    const top = await readFile(join(first.ctx.paths.own, 'query1_top_products.csv'), 'utf8');
    assert.equal(top.trimEnd().split('\n').at(-1), '4,P4,"Atlas, World",Books,Maps,3,1,51.00,27.00,2.45');
  });

  it('lists a month without sales as zeros so that growth compares adjacent months', async () => {
    await test.db.pool
      .query(`INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit, discount_percentage)
      VALUES ('I10', 20240504, 5, 3, 3, 'T7', 1, 15.00, 0.00, 15.00, 5.00, 0)`);
    try {
      const { ctx } = await run({});
      const trend = await readFile(join(ctx.paths.own, 'query2_monthly_trend.csv'), 'utf8');
      assert.deepEqual(trend.trimEnd().split('\n').slice(3), [
        '2024-03,3,3,7,1040.35,195.35,346.78,1476.29,2083.85',
        '2024-04,0,0,0,0.00,0.00,,-100.00,2083.85',
        '2024-05,1,1,1,15.00,5.00,15.00,,2098.85',
      ]);
    } finally {
      await test.db.pool.query(`DELETE FROM warehouse.fact_sales WHERE item_id = 'I10'`);
    }
  });

  it('refuses lines of one transaction that disagree on date or customer version, naming it, and keeps the exports', async () => {
    // T1 (C1, Austin, 2024-01-15) gains a line on the next day under C1's Denver version, which
    // the warehouse never writes (a line takes its transaction's date and customer): the
    // summaries count each transaction once per day and version, so they refuse it.
    const { ctx } = await run({});
    const before = await readFile(join(ctx.paths.own, 'query2_monthly_trend.csv'));
    await test.db.pool
      .query(`INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit, discount_percentage)
      VALUES ('I11', 20240116, 2, 3, 1, 'T1', 1, 15.00, 0.00, 15.00, 5.00, 0)`);
    try {
      const refused = (error: unknown) =>
        error instanceof PermanentError &&
        error.message.includes('lines of one transaction disagree') &&
        error.message.includes('T1 (20240115, 1, 1) and (20240116, 2, 1)');
      // Refused when the line arrives after the transaction was summarised...
      await assert.rejects(run({}, ctx.paths.root), refused);
      // ...and when the summaries are rebuilt from every fact.
      await test.db.pool.query(`UPDATE warehouse.fact_sales SET quantity = quantity WHERE item_id = 'I1'`);
      await assert.rejects(run({}, ctx.paths.root), refused);
      // The customer half failed; whatever the product half did, the rebuild is still due.
      const state = await test.db.pool.query<{ stale: boolean }>('SELECT stale FROM analytics.summary_state');
      assert.deepEqual(state.rows, [{ stale: true }]);
      assert.ok(before.equals(await readFile(join(ctx.paths.own, 'query2_monthly_trend.csv'))));
    } finally {
      await test.db.pool.query(`DELETE FROM warehouse.fact_sales WHERE item_id = 'I11'`);
    }
    const again = await run({});
    assert.equal(
      await readFile(join(again.ctx.paths.own, 'query2_monthly_trend.csv'), 'utf8'),
      EXPECTED.query2_monthly_trend,
    );
  });

  it('follows appended facts and in-place recategorisation incrementally, with the same bytes as a rebuild', async () => {
    // Touching a fact without changing it marks the summaries stale: the next run rebuilds them.
    await test.db.pool.query(`UPDATE warehouse.fact_sales SET quantity = quantity WHERE item_id = 'I1'`);
    const first = await run({ analytics: { top_products_limit: 3 } });
    assert.equal((first.result.details?.summaries as { mode: string }).mode, 'rebuild');
    const settled = await run({ analytics: { top_products_limit: 3 } });
    const settledSummaries = settled.result.details?.summaries as {
      step_ms: Record<string, number>;
    };
    assert.deepEqual(
      { ...settledSummaries, ms: 0, step_ms: Object.keys(settledSummaries.step_ms) },
      {
        mode: 'incremental',
        new_facts: 0,
        ms: 0,
        step_ms: ['scope', 'summaries', 'natural_ids', 'days', 'finish'],
      },
    );
    // A new day's transaction of two lines of one product (its customer and product versions add
    // one transaction each, not two), a late line of T6 (same date, customer and payment method:
    // its versions are recounted, not added to), and P2's only version recategorised in place (as
    // the warehouse's late-change rule does).
    await test.db.pool.query(`
      INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit, discount_percentage)
      VALUES ('I12', 20240601, 4, 2, 2, 'T8', 1, 1200.00, 60.00, 1140.00, 340.00, 5),
             ('I14', 20240601, 4, 2, 2, 'T8', 1, 100.00, 0.00, 100.00, 40.00, 0),
             ('I13', 20240316, 3, 6, 3, 'T6', 2, 20.00, 0.00, 40.00, 18.00, 0);
      UPDATE warehouse.dim_products SET category = 'Literature' WHERE product_key = 3;`);
    try {
      const incremental = await run({ analytics: { top_products_limit: 3 } });
      const summaries = incremental.result.details?.summaries as { mode: string; new_facts: number };
      assert.deepEqual([summaries.mode, summaries.new_facts], ['incremental', 3]);
      const category = await readFile(
        join(incremental.ctx.paths.own, 'query4_category_performance.csv'),
        'utf8',
      );
      // P2's sales move to Literature; Books keeps P4 (T3, and T6 through the late line).
      assert.deepEqual(category.split('\n').slice(2, 4), [
        '2,Books,1,2,5,91.00,45.00,9.00,49.45,18.20,2.71',
        '3,Literature,1,3,6,88.65,28.65,1.35,32.32,14.78,2.64',
      ]);
      await test.db.pool.query(`UPDATE warehouse.fact_sales SET quantity = quantity WHERE item_id = 'I1'`);
      const rebuilt = await run({ analytics: { top_products_limit: 3 } });
      assert.deepEqual(
        [
          (rebuilt.result.details?.summaries as { mode: string; reason: string }).mode,
          (rebuilt.result.details?.summaries as { reason: string }).reason,
        ],
        ['rebuild', 'facts changed'],
      );
      for (const name of Object.keys(EXPECTED)) {
        const a = await readFile(join(incremental.ctx.paths.own, `${name}.csv`));
        const b = await readFile(join(rebuilt.ctx.paths.own, `${name}.csv`));
        assert.ok(a.equals(b), `${name}: incremental differs from rebuild`);
      }
      assert.equal(
        (await readFile(join(incremental.ctx.paths.own, 'query2_monthly_trend.csv'), 'utf8'))
          .trimEnd()
          .split('\n')
          .at(-1),
        '2024-06,1,1,2,1240.00,380.00,1240.00,,3363.85',
      );
    } finally {
      await test.db.pool.query(`
        DELETE FROM warehouse.fact_sales WHERE item_id IN ('I12', 'I13', 'I14');
        UPDATE warehouse.dim_products SET category = 'Books' WHERE product_key = 3;`);
    }
    const restored = await run({ analytics: { top_products_limit: 3 } });
    assert.equal((restored.result.details?.summaries as { reason: string }).reason, 'facts changed');
    for (const [name, expected] of Object.entries(EXPECTED)) {
      assert.equal(await readFile(join(restored.ctx.paths.own, `${name}.csv`), 'utf8'), expected, name);
    }
  });

  it("rebuilds side by side, on one snapshot, the same bytes as a rebuild in the stage's transaction", async () => {
    const summariesOf = (r: Awaited<ReturnType<typeof run>>) =>
      r.result.details?.summaries as {
        mode: string;
        side_by_side?: boolean;
        new_facts: number;
        step_ms: object;
      };
    const markStale = () =>
      test.db.pool.query(`UPDATE warehouse.fact_sales SET quantity = quantity WHERE item_id = 'I1'`);
    await markStale();
    const inOne = await run({ analytics: { top_products_limit: 3, rebuild_side_by_side: false } });
    await markStale();
    const sideBySide = await run({ analytics: { top_products_limit: 3 } });
    assert.deepEqual(
      [inOne, sideBySide].map((r) => [
        summariesOf(r).mode,
        summariesOf(r).side_by_side,
        summariesOf(r).new_facts,
      ]),
      [
        ['rebuild', undefined, 9],
        ['rebuild', true, 9],
      ],
    );
    // Both halves reported their steps, and the coordinator its own.
    assert.deepEqual(Object.keys(summariesOf(sideBySide).step_ms).sort(), [
      'analyze',
      'analyze_customers',
      'analyze_products',
      'customer_natural_ids',
      'customer_summaries',
      'days',
      'finish',
      'product_natural_ids',
      'product_summaries',
      'record_transactions',
      'refresh',
      'reset',
      'transactions',
    ]);
    for (const [name, expected] of Object.entries(EXPECTED)) {
      assert.equal(await readFile(join(inOne.ctx.paths.own, `${name}.csv`), 'utf8'), expected, name);
      assert.equal(await readFile(join(sideBySide.ctx.paths.own, `${name}.csv`), 'utf8'), expected, name);
    }
    // The mark was committed: the next run only refreshes.
    assert.equal(summariesOf(await run({})).mode, 'incremental');
    // A pool of 3 would have no connection to spare while the coordinator and both halves hold
    // theirs: one transaction then.
    await markStale();
    const smallPool = await run({ database: { pool_size: 3 } });
    assert.deepEqual(
      [summariesOf(smallPool).mode, summariesOf(smallPool).side_by_side],
      ['rebuild', undefined],
    );
  });

  it('exports on two connections that share one snapshot, the same bytes as in one transaction', async () => {
    const exportsOf = (r: Awaited<ReturnType<typeof run>>) =>
      r.result.details?.exports as { side_by_side: boolean; coordinator?: string[]; importer?: string[] };
    const inOne = await run({ analytics: { top_products_limit: 3, exports_side_by_side: false } });
    const sideBySide = await run({ analytics: { top_products_limit: 3 } });
    assert.deepEqual(exportsOf(inOne), { side_by_side: false });
    const { coordinator = [], importer = [] } = exportsOf(sideBySide);
    assert.equal(exportsOf(sideBySide).side_by_side, true);
    // Most expensive first: the importing connection takes the head of the queue, the
    // coordinator the next; between them, every query once.
    assert.deepEqual(
      [importer[0], coordinator[0]],
      ['query7_customer_lifetime_value', 'query8_product_profitability'],
    );
    assert.deepEqual([...coordinator, ...importer].sort(), Object.keys(EXPECTED).sort());
    for (const name of Object.keys(EXPECTED)) {
      const a = await readFile(join(inOne.ctx.paths.own, `${name}.csv`));
      const b = await readFile(join(sideBySide.ctx.paths.own, `${name}.csv`));
      assert.ok(a.equals(b), `${name}: side by side differs from one transaction`);
      assert.equal(b.toString('utf8'), EXPECTED[name], name);
    }
    // The summary and the result list the queries in their defined order, whoever exported them.
    const summary = JSON.parse(
      await readFile(join(sideBySide.ctx.paths.own, 'analytics_summary.json'), 'utf8'),
    ) as { queries: Array<{ query: string; ms: number }> };
    assert.deepEqual(
      summary.queries.map((q) => q.query),
      Object.keys(EXPECTED),
    );
    assert.deepEqual(
      sideBySide.result.rows?.map((r) => r.table),
      Object.keys(EXPECTED),
    );
    assert.deepEqual(Object.keys(sideBySide.result.details?.queries as object), Object.keys(EXPECTED));
    // A pool of 2 would have no connection to spare while both exporting connections hold theirs.
    assert.deepEqual(exportsOf(await run({ database: { pool_size: 2 } })), { side_by_side: false });
  });

  it('keeps the previous exports when an export fails on the second connection, and leaves no temporary file', async () => {
    const { ctx } = await run({});
    const names = [...Object.keys(EXPECTED).map((n) => `${n}.csv`), 'analytics_summary.json'];
    const before = await Promise.all(names.map((n) => readFile(join(ctx.paths.own, n))));
    // Only query 7 reads the run date, and a date that does not exist fails its export. The
    // connection that imports the snapshot takes query 7 (the head of the queue, as above); the
    // coordinator has meanwhile begun query 8, whose file the failure must remove too.
    await assert.rejects(run({}, ctx.paths.root, '2025-02-30'), /date\/time field value out of range/);
    const after = await Promise.all(names.map((n) => readFile(join(ctx.paths.own, n))));
    names.forEach((name, i) => assert.ok(before[i]!.equals(after[i]!), `${name} changed`));
    assert.deepEqual((await readdir(ctx.paths.own)).sort(), [...names].sort());
    // Both connections went back to the pool usable: the next run exports side by side again.
    const again = await run({}, ctx.paths.root);
    assert.equal((again.result.details?.exports as { side_by_side: boolean }).side_by_side, true);
  });

  it('segments by fixed spend thresholds when configured', async () => {
    const { ctx } = await run({
      analytics: {
        spend_segments: {
          method: 'fixed',
          fixed_bands: [
            { name: 'Big', min: 1000 },
            // Exactly one customer's spend: "at least min" puts it in Mid.
            { name: 'Mid', min: 66 },
            { name: 'Small', min: 0 },
          ],
        },
      },
    });
    assert.equal(
      await readFile(join(ctx.paths.own, 'query3_customer_segmentation.csv'), 'utf8'),
      csv(
        'segment,customers,customer_share_pct,min_spend,max_spend,avg_spend,revenue,revenue_share_pct,transactions,avg_order_value',
        'Big,1,25.00,1890.00,1890.00,1890.00,1890.00,90.70,2,945.00',
        'Mid,2,50.00,66.00,102.85,84.43,168.85,8.10,3,56.28',
        'Small,1,25.00,25.00,25.00,25.00,25.00,1.20,1,25.00',
      ),
    );
  });

  it('keeps the previous exports when a query fails, and leaves no temporary file', async () => {
    const { ctx } = await run({});
    const before = await readFile(join(ctx.paths.own, 'query1_top_products.csv'));
    await test.db.pool.query('ALTER TABLE warehouse.fact_sales RENAME COLUMN profit TO profit_broken');
    try {
      await assert.rejects(run({}, ctx.paths.root), /profit/);
    } finally {
      await test.db.pool.query('ALTER TABLE warehouse.fact_sales RENAME COLUMN profit_broken TO profit');
    }
    assert.ok(before.equals(await readFile(join(ctx.paths.own, 'query1_top_products.csv'))));
    assert.ok((await readdir(ctx.paths.own)).every((f) => !f.endsWith('.tmp')));
  });

  it('neutralises text that starts like a formula (OWASP), byte for byte alike by COPY and by cursor', async () => {
    const ctx = test.context(options.name, { dataDir: test.newDataDir() });
    await mkdir(ctx.paths.own, { recursive: true });
    const query = { name: 'formulas', sql: FORMULAS_SQL, params: [] };
    const byCopy = join(ctx.paths.own, 'by-copy.csv');
    const byCursor = join(ctx.paths.own, 'by-cursor.csv');
    await ctx.db.transaction(async (tx) => {
      assert.ok(tx.copyCsvOut, 'PostgreSQL exports by COPY');
      await exportQueryToCsv(tx, query, byCopy, 2);
      // The same transaction without COPY: the cursor path, as on the embedded database.
      await exportQueryToCsv({ query: tx.query, copyCsv: tx.copyCsv }, query, byCursor, 2);
    });
    const copied = await readFile(byCopy);
    assert.equal(copied.toString(), FORMULAS_CSV);
    assert.ok(copied.equals(await readFile(byCursor)), 'both paths write the same bytes');
  });

  it('refuses a column type the driver would re-format, and removes the partial file', async () => {
    const ctx = test.context(options.name, { dataDir: test.newDataDir() });
    const path = join(ctx.paths.own, 'float.csv.tmp');
    await assert.rejects(
      ctx.db.transaction((tx) =>
        exportQueryToCsv(tx, { name: 'float', sql: 'SELECT 0.1::float8 AS share', params: [] }, path, 10),
      ),
      (error: unknown) =>
        error instanceof PermanentError && /column "share" has type oid 701/.test(error.message),
    );
    assert.deepEqual(await readdir(ctx.paths.own), []);
  });

  it('removes the partial file when the query fails after rows were written, and the connection stays usable', async () => {
    const ctx = test.context(options.name, { dataDir: test.newDataDir() });
    await mkdir(ctx.paths.own, { recursive: true });
    const path = join(ctx.paths.own, 'failing.csv.tmp');
    // Fails at the 20,000th row, well after the first rows reached the file (the describe reads none).
    const sql = 'SELECT (100 / (20000 - g))::int AS v FROM generate_series(1, 30000) AS g';
    await assert.rejects(
      ctx.db.transaction((tx) => exportQueryToCsv(tx, { name: 'failing', sql, params: [] }, path, 1000)),
      /division by zero/,
    );
    assert.deepEqual(await readdir(ctx.paths.own), []);
    const after = await ctx.db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'));
    assert.deepEqual(after.rows, [{ one: 1 }]);
  });

  it('rejects spend bands that are not listed highest first', () => {
    assert.throws(
      () =>
        test.context(options.name, {
          config: {
            analytics: {
              spend_segments: {
                quantile_bands: [
                  { name: 'A', min: 0 },
                  { name: 'B', min: 0.5 },
                ],
              },
            },
          },
        }),
      /analytics\.spend_segments\.quantile_bands\.1\.min/,
    );
  });
});

/**
 * Values a spreadsheet would run as formulas (= + - @ tab CR LF first), and their neighbours that
 * it would not: numbers (a negative one too), a quote, NULL and the empty string. `code` is
 * char(n): padded in the first row, which gives the column its type, and printed as before.
 */
const FORMULAS_SQL = `
SELECT id, name, note, code, amount FROM (VALUES
  (1, '=HYPERLINK("http://x.example","click")'::text, 'a'::varchar(10), 'AB'::char(4), -12.50::numeric),
  (2, '+1+1', '-2', '@', 1.0),
  (3, '@SUM(A1:A9)', E'\\tTab', '=', 0),
  (4, E'\\rCR', E'\\nLF', ' =', 0),
  (5, 'Ann', NULL, NULL, -3),
  (6, '''already quoted', '', 'x', 0),
  (7, ' =padded', 'a=b', '-', 0)
) AS v(id, name, note, code, amount) ORDER BY id`;

const FORMULAS_CSV = csv(
  'id,name,note,code,amount',
  `1,"'=HYPERLINK(""http://x.example"",""click"")",a,AB  ,-12.50`,
  "2,'+1+1,'-2,'@,1.0",
  "3,'@SUM(A1:A9),'\tTab,'=,0",
  `4,"'\rCR","'\nLF", =,0`,
  '5,Ann,,,-3',
  `6,'already quoted,"",x,0`,
  "7, =padded,a=b,'-,0",
);

describe('analytics stage on the embedded database', () => {
  let test: TestBed;
  before(async () => {
    test = await analyticsBed('embedded');
    await test.db.pool.query(FIXTURE);
  });
  after(async () => {
    await test?.dispose();
  });

  it('neutralises formulas by cursor as PostgreSQL does by COPY', async () => {
    const ctx = test.context(options.name, { dataDir: test.newDataDir() });
    await mkdir(ctx.paths.own, { recursive: true });
    const path = join(ctx.paths.own, 'formulas.csv');
    await ctx.db.transaction(async (tx) => {
      assert.equal(tx.copyCsvOut, undefined, 'the embedded database exports by cursor');
      await exportQueryToCsv(tx, { name: 'formulas', sql: FORMULAS_SQL, params: [] }, path, 3);
    });
    assert.equal(await readFile(path, 'utf8'), FORMULAS_CSV);
  });

  it('exports the same bytes as PostgreSQL (cursor, snapshot and types behave alike)', async () => {
    const ctx = test.context<AnalyticsSettings>(options.name, {
      config: { analytics: { top_products_limit: 3 } },
      runDate: '2025-01-01',
    });
    const result = await stage.run(ctx);
    // One backend: the exports run one after the other, in the stage's transaction.
    assert.deepEqual(result.details?.exports, { side_by_side: false });
    for (const [name, expected] of Object.entries(EXPECTED)) {
      assert.equal(await readFile(join(ctx.paths.own, `${name}.csv`), 'utf8'), expected, name);
    }
  });
});
