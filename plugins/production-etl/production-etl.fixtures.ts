/**
 * Test support for the production-etl specs: staging rows written with plain SQL, and a runner
 * that executes the stage on a test bed with a chosen configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageResult } from '@pipeline/kernel';
import { createTestBed, type Database, type TestBed, type TestBedOptions } from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import qualityChecks from '@pipeline/plugin-quality-checks';
import productionEtl from './index.js';
import type { ProductionEtlSettings } from './production-etl.config.js';
import { PRODUCTION_ETL_STAGE, ProductionEtlStage } from './production-etl.stage.js';
import type { TransformationSummary } from './transformation-summary.js';

/** A fresh database migrated by this plugin and those upstream of it (staging's, the gate's). */
export function productionBed(database?: TestBedOptions['database']): Promise<TestBed> {
  return createTestBed({
    plugins: [dataGeneration, ingestion, qualityChecks, productionEtl],
    ...(database ? { database } : {}),
  });
}

export async function resetTables(db: Database): Promise<void> {
  await db.pool.query(
    `TRUNCATE staging.customers, staging.products, staging.transactions, staging.transaction_items,
              production.transaction_items, production.transactions, production.customers, production.products,
              production.rejected_rows, production.customer_history, production.product_history,
              production.business_dates, production.member_changes, production.withdrawn_facts, production.fact_copies`,
  );
}

/** Replaces the staged snapshot with the given VALUES lists (column order as in each table). */
export async function stage(
  db: Database,
  rows: { customers?: string; products?: string; transactions?: string; items?: string },
): Promise<void> {
  await db.pool.query(
    'TRUNCATE staging.customers, staging.products, staging.transactions, staging.transaction_items',
  );
  if (rows.customers) {
    await db.pool.query(
      `INSERT INTO staging.customers (customer_id, first_name, last_name, email, phone, registration_date, city, state, country, age_group)
       VALUES ${rows.customers}`,
    );
  }
  if (rows.products) {
    await db.pool.query(
      `INSERT INTO staging.products (product_id, product_name, category, sub_category, price, cost, brand, stock_quantity, supplier_id)
       VALUES ${rows.products}`,
    );
  }
  if (rows.transactions) {
    await db.pool.query(
      `INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, transaction_time, payment_method, shipping_address, total_amount)
       VALUES ${rows.transactions}`,
    );
  }
  if (rows.items) {
    await db.pool.query(
      `INSERT INTO staging.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total)
       VALUES ${rows.items}`,
    );
  }
}

/** A small consistent snapshot: 3 customers, 2 products, 2 transactions with 3 items. */
export const BASELINE = {
  customers: `
    ('CUST0001', 'Ada', 'Lovelace', 'ada@example.com', '5550001', '2024-01-01', 'London', 'LDN', 'UK', '25-34'),
    ('CUST0002', 'Alan', 'Turing', 'alan@example.com', '5550002', '2024-01-02', 'Wilmslow', 'CHS', 'UK', '35-44'),
    ('CUST0003', 'Grace', 'Hopper', 'grace@example.com', NULL, '2024-01-03', 'Arlington', 'VA', 'USA', '45-54')`,
  products: `
    ('PROD0001', 'Keyboard', 'Electronics', 'Input', 100.00, 60.00, 'Acme', 10, 'SUP01'),
    ('PROD0002', 'Mug', 'Home', 'Kitchen', 20.00, 5.00, 'Potter', 50, 'SUP02')`,
  transactions: `
    ('TXN00001', 'CUST0001', '2024-02-01', '10:00:00', 'Credit Card', '1 Main St', 220.00),
    ('TXN00002', 'CUST0002', '2024-02-02', '11:30:00', 'PayPal', '2 High St', 40.00)`,
  items: `
    ('ITEM00001', 'TXN00001', 'PROD0001', 2, 100.00, 0, 200.00),
    ('ITEM00002', 'TXN00001', 'PROD0002', 1, 20.00, 0, 20.00),
    ('ITEM00003', 'TXN00002', 'PROD0002', 2, 20.00, 0, 40.00)`,
};

/**
 * BASELINE with duplicated fact ids (see the README's duplicate rule): TXN00001 and ITEM00001
 * three times, one copy loaded an hour later; TXN00002 and ITEM00002 twice, loaded together;
 * TXN00003 and ITEM00004 with a later copy that breaks a row rule; blank and missing ids.
 */
export async function stageDuplicateIds(db: Database): Promise<void> {
  await stage(db, {
    ...BASELINE,
    transactions: `${BASELINE.transactions},
      ('TXN00001', 'CUST0001', '2024-02-01', '10:00:00', 'Cash', '1 Main St', 220.00),
      ('TXN00002', 'CUST0002', '2024-02-02', '11:30:00', 'PayPal', '1 High St', 40.00),
      ('TXN00003', 'CUST0003', '2024-02-03', '12:00:00', 'Cash', NULL, 20.00),
      ('  ', 'CUST0003', '2024-02-03', '12:00:00', 'Cash', NULL, 1.00),
      (NULL, 'CUST0003', '2024-02-03', '12:00:00', 'Cash', NULL, 1.00)`,
    items: `${BASELINE.items},
      ('ITEM00001', 'TXN00001', 'PROD0001', 3, 100.00, 0, 300.00),
      (' ITEM00002 ', 'TXN00001', 'PROD0002', 2, 20.00, 0, 40.00),
      ('ITEM00004', 'TXN00003', 'PROD0002', 1, 20.00, 0, 20.00),
      ('  ', 'TXN00002', 'PROD0002', 1, 20.00, 0, 20.00),
      (NULL, 'TXN00002', 'PROD0002', 1, 20.00, 0, 20.00)`,
  });
  await db.pool.query(
    `INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, transaction_time, payment_method, shipping_address, total_amount, loaded_at)
     VALUES ('TXN00001', 'CUST0001', '2024-02-01', '10:00:00', 'Debit Card', '1 Main St', 220.00, now() + interval '1 hour'),
            ('TXN00003', 'CUST0003', '2024-02-03', '12:00:00', 'Cash', NULL, -20.00, now() + interval '1 hour')`,
  );
  await db.pool.query(
    `INSERT INTO staging.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total, loaded_at)
     VALUES ('ITEM00001', 'TXN00001', 'PROD0001', 4, 100.00, 0, 400.00, now() + interval '1 hour'),
            ('ITEM00004', 'TXN00003', 'PROD0002', 0, 20.00, 0, 0.00, now() + interval '1 hour')`,
  );
}

export interface EtlRun {
  readonly result: StageResult;
  readonly summary: TransformationSummary;
  readonly runId: string;
}

/**
 * Runs the stage for `runDate`, by default the day after the latest business date production
 * holds (2025-03-01 on an empty one): successive calls load successive days, as a daily run does.
 */
export async function runEtl(
  bed: TestBed,
  options: {
    config?: Partial<Record<keyof ProductionEtlSettings, unknown>>;
    runDate?: string;
    runId?: string;
  } = {},
): Promise<EtlRun> {
  const runDate = options.runDate ?? (await nextBusinessDate(bed.db));
  const ctx = bed.context<ProductionEtlSettings>(PRODUCTION_ETL_STAGE.name, {
    config: { production: options.config ?? {} },
    runDate,
    ...(options.runId ? { runId: options.runId } : {}),
  });
  const result = await new ProductionEtlStage().run(ctx);
  const summary = JSON.parse(
    readFileSync(join(ctx.paths.own, 'transformation_summary.json'), 'utf8'),
  ) as TransformationSummary;
  return { result, summary, runId: ctx.runId };
}

async function nextBusinessDate(db: Database): Promise<string> {
  const { rows } = await db.pool.query<{ next: string }>(
    `SELECT coalesce(max(business_date) + 1, DATE '2025-03-01')::text AS next FROM production.business_dates`,
  );
  return rows[0]!.next;
}
