/**
 * The whole pipeline as a user runs it: the real CLI in a child process, on a fresh database.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { EmbeddedDatabase, type Database } from '../../libs/database/index.js';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { CLI } from '../support/daemon-process.js';

const run = promisify(execFile);

async function pipeline(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
}

const one = async (db: pg.Pool | pg.Client, sql: string): Promise<string> => {
  const { rows } = await db.query<{ v: string }>(sql);
  return String(rows[0]!.v);
};

/** The warehouse agrees with production: the invariants BI users rely on. */
async function assertWarehouseInvariants(db: pg.Pool | pg.Client): Promise<void> {
  assert.equal(
    await one(db, 'SELECT count(*) AS v FROM warehouse.fact_sales'),
    await one(db, 'SELECT count(*) AS v FROM production.transaction_items'),
    'one fact per production item',
  );
  assert.equal(
    await one(db, 'SELECT sum(line_total)::text AS v FROM warehouse.fact_sales'),
    await one(db, 'SELECT sum(line_total)::text AS v FROM production.transaction_items'),
    'fact revenue equals production revenue to the cent',
  );
  assert.equal(
    await one(
      db,
      `SELECT count(*) AS v FROM (
         SELECT date_key, count(DISTINCT transaction_id)::int AS t, sum(line_total) AS r, sum(profit) AS p, count(DISTINCT customer_key)::int AS c
         FROM warehouse.fact_sales GROUP BY date_key
         EXCEPT SELECT date_key, total_transactions, total_revenue, total_profit, unique_customers FROM warehouse.agg_daily_sales) d`,
    ),
    '0',
    'agg_daily_sales equals a fresh GROUP BY',
  );
  assert.equal(
    await one(
      db,
      `SELECT count(*) AS v FROM production.transactions t LEFT JOIN warehouse.dim_date d ON d.full_date = t.transaction_date WHERE d.date_key IS NULL`,
    ),
    '0',
    'every transaction date is in dim_date',
  );
  assert.equal(
    await one(
      db,
      `SELECT count(*) AS v FROM (SELECT customer_id FROM warehouse.dim_customers WHERE is_current GROUP BY 1 HAVING count(*) > 1) x`,
    ),
    '0',
    'one current version per customer',
  );
  assert.equal(
    await one(
      db,
      'SELECT count(*) AS v FROM warehouse.fact_sales WHERE line_total + discount_amount <> quantity * unit_price',
    ),
    '0',
    'every fact line adds up: line_total + discount_amount = quantity * unit_price',
  );
}

/** Whole cents of a decimal written with two places, exactly. */
function cents(value: string): bigint {
  assert.match(value, /^-?\d+\.\d{2}$/, `an amount with two decimals: ${value}`);
  return BigInt(value.replace('.', ''));
}

/**
 * Analytics query 10 adds up: in every band the gross amount is the discount plus the net
 * amount, and the bands together hold every fact's gross amount, discount and line total.
 */
async function assertDiscountBandsAddUp(db: pg.Pool | pg.Client, exports: string): Promise<void> {
  const [header, ...lines] = readFileSync(join(exports, 'query10_discount_impact.csv'), 'utf8')
    .trimEnd()
    .split('\n');
  const column = (name: string) => header!.split(',').indexOf(name);
  const totals = { gross: 0n, discount: 0n, net: 0n };
  for (const line of lines) {
    const fields = line.split(',');
    const [gross, discount, net] = ['gross_revenue', 'discount_total', 'net_revenue'].map((c) =>
      cents(fields[column(c)]!),
    );
    assert.equal(gross, discount! + net!, `band ${fields[0]}: gross = discount + net`);
    totals.gross += gross!;
    totals.discount += discount!;
    totals.net += net!;
  }
  const { rows } = await db.query<{ gross: string; discount: string; net: string }>(
    `SELECT sum(quantity * unit_price)::text AS gross, sum(discount_amount)::text AS discount, sum(line_total)::text AS net
     FROM warehouse.fact_sales`,
  );
  assert.deepEqual(totals, {
    gross: cents(rows[0]!.gross),
    discount: cents(rows[0]!.discount),
    net: cents(rows[0]!.net),
  });
  assert.ok(totals.discount > 0n, 'some lines are discounted');
}

describe('the whole pipeline on the embedded database, default scale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-embedded-'));
  let db: Database;

  before(async () => {
    await pipeline({ PIPELINE_DATA_DIR: dir }, 'run', '--date', '2025-01-01');
    db = await EmbeddedDatabase.open({ dir: join(dir, 'db'), poolSize: 2 });
  });

  after(async () => {
    await db?.close();
  });

  it('writes every stage output', () => {
    for (const file of [
      'raw/2025-01-01/customers.csv',
      'raw/2025-01-01/generation_metadata.json',
      'processed/ingestion_summary.json',
      'quality/data_quality_report.json',
      'production/transformation_summary.json',
      'processed/analytics/analytics_summary.json',
      'processed/monitoring_report.json',
      'processed/pipeline_execution_report.json',
    ]) {
      assert.ok(existsSync(join(dir, file)), `${file} exists`);
    }
    const exports = readdirSync(join(dir, 'processed', 'analytics')).filter((f) => f.endsWith('.csv'));
    assert.equal(exports.length, 10);
    const report = JSON.parse(
      readFileSync(join(dir, 'processed', 'pipeline_execution_report.json'), 'utf8'),
    ) as { status: string; stages: { stage: string; status: string }[] };
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(
      report.stages.map((s) => s.stage),
      [
        'data-generation',
        'ingestion',
        'quality-checks',
        'production-etl',
        'warehouse',
        'analytics',
        'monitoring',
      ],
    );
  });

  it('loads 10,000 transactions through to a warehouse that agrees with production', async () => {
    assert.equal(await one(db.pool, 'SELECT count(*) AS v FROM production.transactions'), '10000');
    await assertWarehouseInvariants(db.pool);
  });

  it('gives discounts and line totals that add up to the gross amount on every line and in every band of query 10', async () => {
    // Rounded apart, discount and line total missed the gross amount by a cent on 1,754 of these
    // 29,994 lines.
    await assertDiscountBandsAddUp(db.pool, join(dir, 'processed', 'analytics'));
  });
});

describe('a full load followed by three daily increments', { skip: needsPostgres }, () => {
  let url: string;
  let drop: () => Promise<void>;
  let client: pg.Client;
  const dir = mkdtempSync(join(tmpdir(), 'e2e-daily-'));

  const env = (mode: 'full' | 'daily'): Record<string, string> => {
    const config = join(dir, `${mode}.yaml`);
    writeFileSync(
      config,
      `data_generation:\n  mode: ${mode}\n  customers: 300\n  products: 120\n  transactions: 2000\n  daily: { transactions: 60, change_share: 0.05 }\n`,
    );
    return { DATABASE_URL: url, PIPELINE_DATA_DIR: join(dir, 'data'), PIPELINE_CONFIG: config };
  };

  before(async () => {
    ({ url, drop } = await createPostgresDatabase('daily'));
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await drop?.();
  });

  it('appends exactly each day’s items, keeps SCD2 history of changed members, and reports each day', async () => {
    await pipeline(env('full'), 'run', '--date', '2025-01-01');
    await assertWarehouseInvariants(client);
    let facts = Number(await one(client, 'SELECT count(*) AS v FROM warehouse.fact_sales'));
    const firstVersions = Number(await one(client, 'SELECT count(*) AS v FROM warehouse.dim_customers'));

    for (const day of ['2025-01-02', '2025-01-03', '2025-01-04']) {
      await pipeline(env('daily'), 'run', '--date', day);
      const dayItems = Number(await one(client, `SELECT count(*) AS v FROM staging.transaction_items`));
      const now = Number(await one(client, 'SELECT count(*) AS v FROM warehouse.fact_sales'));
      assert.equal(now - facts, dayItems, `${day}: facts grew by exactly the day's items`);
      facts = now;
      assert.equal(
        await one(
          client,
          `SELECT count(*) AS v FROM production.transactions WHERE transaction_date = '${day}'`,
        ),
        await one(client, 'SELECT count(*) AS v FROM staging.transactions'),
      );
      await assertWarehouseInvariants(client);
      const monitoring = JSON.parse(
        readFileSync(join(dir, 'data', 'processed', 'monitoring_report.json'), 'utf8'),
      ) as { run_date: string };
      assert.equal(monitoring.run_date, day);
      const trend = readFileSync(
        join(dir, 'data', 'processed', 'analytics', 'query2_monthly_trend.csv'),
        'utf8',
      );
      assert.match(trend, /2025-01/, `${day}: the monthly trend shows January 2025`);
      await assertDiscountBandsAddUp(client, join(dir, 'data', 'processed', 'analytics'));
    }
    const versions = Number(await one(client, 'SELECT count(*) AS v FROM warehouse.dim_customers'));
    assert.ok(versions > firstVersions, 'changed customers got new versions');
    const closed = Number(
      await one(
        client,
        `SELECT count(*) AS v FROM warehouse.dim_customers WHERE NOT is_current AND end_date BETWEEN '2025-01-02' AND '2025-01-04'`,
      ),
    );
    assert.ok(closed > 0, 'some customer versions were closed by the daily changes');
    assert.equal(
      await one(
        client,
        `SELECT count(*) AS v FROM warehouse.dim_customers old
         WHERE NOT old.is_current AND old.end_date BETWEEN '2025-01-02' AND '2025-01-04'
           AND NOT EXISTS (SELECT 1 FROM warehouse.dim_customers nxt WHERE nxt.customer_id = old.customer_id AND nxt.effective_date >= old.end_date)
           AND NOT EXISTS (SELECT 1 FROM production.customers p WHERE p.customer_id = old.customer_id AND NOT p.is_active)`,
      ),
      '0',
      'a closed version is followed by a later one (a move, or a return after an absence), unless the customer is gone',
    );
    const runs = await client.query<{ status: string }>(
      `SELECT status FROM pipeline.runs ORDER BY started_at`,
    );
    assert.deepEqual(
      runs.rows.map((r) => r.status),
      ['succeeded', 'succeeded', 'succeeded', 'succeeded'],
    );
  });
});

describe(
  'a quality gate that closes while production-etl works alongside it',
  { skip: needsPostgres },
  () => {
    let url: string;
    let drop: () => Promise<void>;
    let client: pg.Client;
    const dir = mkdtempSync(join(tmpdir(), 'e2e-gate-'));
    const data = join(dir, 'data');

    before(async () => {
      ({ url, drop } = await createPostgresDatabase('gate'));
      client = new pg.Client({ connectionString: url });
      await client.connect();
    });

    after(async () => {
      await client?.end();
      await drop?.();
    });

    it('leaves production as it was, and says the stage was skipped and its work rolled back', async () => {
      const config = join(dir, 'config.yaml');
      writeFileSync(config, 'data_generation:\n  customers: 300\n  products: 120\n  transactions: 2000\n');
      const env = { DATABASE_URL: url, PIPELINE_DATA_DIR: data, PIPELINE_CONFIG: config };
      await pipeline(env, 'run', '--date', '2025-01-01', '--only', 'data-generation');
      // One item twice: the gate quarantines it and closes.
      const items = join(data, 'raw', '2025-01-01', 'transaction_items.csv');
      const lines = readFileSync(items, 'utf8').split('\n');
      lines.splice(2, 0, lines[1]!);
      writeFileSync(items, lines.join('\n'));

      await assert.rejects(pipeline(env, 'run', '--date', '2025-01-01', '--from', 'ingestion'));
      const report = JSON.parse(
        readFileSync(join(data, 'processed', 'pipeline_execution_report.json'), 'utf8'),
      ) as {
        status: string;
        stages: { stage: string; status: string; attempts: number; error: string | null }[];
      };
      const stage = (name: string) => report.stages.find((s) => s.stage === name)!;
      assert.equal(report.status, 'failed');
      assert.equal(stage('quality-checks').status, 'failed');
      assert.equal(stage('production-etl').status, 'skipped');
      assert.equal(stage('production-etl').attempts, 1, 'production-etl ran alongside the gate');
      assert.match(
        stage('production-etl').error ?? '',
        /quality-checks failed; the work done alongside it was rolled back/,
      );
      assert.equal(stage('warehouse').status, 'skipped');
      for (const table of ['customers', 'products', 'transactions', 'transaction_items'])
        assert.equal(
          await one(client, `SELECT count(*) AS v FROM production.${table}`),
          '0',
          `production.${table}`,
        );
      assert.notEqual(await one(client, `SELECT count(*) AS v FROM pipeline.quarantine`), '0');
    });
  },
);
