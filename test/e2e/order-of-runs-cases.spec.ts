/**
 * The five ways the order of runs used to go wrong (issue 15), each as a named case: a redo of an
 * earlier date, missed days backfilled later, users' own files and their dates, a day rerun with
 * corrected files, and a sale of a product missing from the day's file. Each compares with the
 * in-order build where the rule says they must agree (order-of-runs.spec.ts is the general form).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { datesBetween, PermanentError } from '../../libs/kernel/index.js';
import { postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
import {
  dayBed,
  exportsOf,
  generateDays,
  placeInput,
  readCsv,
  runDay,
  stateChecksums,
  writeCsv,
} from '../support/pipeline-days.js';

const FULL_LOAD = '2024-12-31';
const DAILY = datesBetween('2025-01-01', '2025-01-14');
const GENERATION = {
  seed: 7,
  customers: 150,
  products: 70,
  transactions: 700,
  start_date: '2024-10-01',
  daily: { transactions: 30, change_share: 0.06, disappear_share: 0.03, return_share: 0.3 },
};

describe('the order of runs: named cases', { skip: await postgresUnavailable() }, () => {
  const source = mkdtempSync(join(tmpdir(), 'order-cases-'));
  const tests: TestBed[] = [];
  let inOrder: { checksums: Record<string, string>; exports: Record<string, string> };

  /** A fresh database and data folder; `loads` are dates, each with its generated input. */
  async function load(dates: readonly string[], dataDir = mkdtempSync(join(tmpdir(), 'order-case-'))) {
    const bed = await dayBed();
    tests.push(bed);
    for (const date of dates) {
      placeInput(source, dataDir, date);
      await runDay(bed, dataDir, date);
    }
    return { bed, db: bed.db, dataDir };
  }

  before(async () => {
    const scratch = await dayBed();
    tests.push(scratch);
    await generateDays(scratch, source, FULL_LOAD, DAILY, GENERATION);
    const built = await load([FULL_LOAD, ...DAILY]);
    inOrder = { checksums: await stateChecksums(built.db), exports: exportsOf(built.dataDir) };
  });
  after(async () => {
    for (const test of tests) await test.dispose();
    rmSync(source, { recursive: true, force: true });
  });

  it('1. a redo of an earlier date leaves the later history as it was', async () => {
    const { bed, db, dataDir } = await load([FULL_LOAD, ...DAILY]);
    const before = await db.pool.query(`SELECT count(*)::int AS versions FROM warehouse.dim_customers`);
    placeInput(source, dataDir, '2025-01-07');
    await runDay(bed, dataDir, '2025-01-07');
    assert.deepEqual(
      (await db.pool.query(`SELECT count(*)::int AS versions FROM warehouse.dim_customers`)).rows,
      before.rows,
    );
    assert.deepEqual(await stateChecksums(db), inOrder.checksums);
    assert.deepEqual(exportsOf(dataDir), inOrder.exports);
  });

  it('2. missed days backfilled later load, and give the in-order warehouse', async () => {
    const missed = ['2025-01-05', '2025-01-06', '2025-01-07'];
    const { db, dataDir } = await load([FULL_LOAD, ...DAILY.filter((d) => !missed.includes(d)), ...missed]);
    const { rows } = await db.pool.query<{ items: number; facts: number }>(
      `SELECT (SELECT count(*) FROM production.transaction_items)::int AS items,
              (SELECT count(*) FROM warehouse.fact_sales)::int AS facts`,
    );
    assert.equal(rows[0]!.facts, rows[0]!.items, 'every production item reached fact_sales');
    assert.deepEqual(await stateChecksums(db), inOrder.checksums);
    assert.deepEqual(exportsOf(dataDir), inOrder.exports);
  });

  it("3. a date's files are loaded for that date only, and the previous day's files run as the next date are refused by name", async () => {
    const { bed, dataDir } = await load([FULL_LOAD, '2025-01-01', '2025-01-02', '2025-01-03']);
    // One day's files dropped flat into raw/ are filed under the date that loads them...
    for (const file of ['customers.csv', 'products.csv', 'transactions.csv', 'transaction_items.csv'])
      cpSync(join(source, 'raw', '2025-01-04', file), join(dataDir, 'raw', file));
    await runDay(bed, dataDir, '2025-01-04');
    // ...so the next date finds no files instead of loading the same ones again,
    await assert.rejects(runDay(bed, dataDir, '2025-01-05'), /no input for business date 2025-01-05/);
    // and a day's files loaded as the next date, as a 02:00 schedule would, are refused by name,
    // though that day (2025-01-05) was never loaded: the files are judged against the run date.
    cpSync(join(source, 'raw', '2025-01-05'), join(dataDir, 'raw', '2025-01-06'), { recursive: true });
    await assert.rejects(runDay(bed, dataDir, '2025-01-06'), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(
        error.message,
        /^raw\/2025-01-06\/transactions\.csv holds sales dated 2025-01-05\.\.2025-01-05, none on the run date 2025-01-06 .*these are the files of an earlier date, not of 2025-01-06/,
      );
      return true;
    });
  });

  it('4. a day rerun with corrected files replaces the day: corrected lines updated, vanished ones withdrawn', async () => {
    const { bed, db, dataDir } = await load([FULL_LOAD, '2025-01-01', '2025-01-02', '2025-01-03']);
    const raw = join(dataDir, 'raw', '2025-01-02');
    const items = readCsv(join(raw, 'transaction_items.csv'));
    const transactions = readCsv(join(raw, 'transactions.csv'));
    const fixed = items.rows[0]!;
    const gone = transactions.rows.find((t) => t.transaction_id !== fixed.transaction_id)!;
    const goneItems = items.rows
      .filter((i) => i.transaction_id === gone.transaction_id)
      .map((i) => i.item_id);
    const cents = (v: string): number => Math.round(Number(v) * 100);
    const before = cents(fixed.line_total!);
    fixed.quantity = String(Number(fixed.quantity) + 1);
    const after = Math.round(
      (Number(fixed.quantity) * cents(fixed.unit_price!) * (100 - Number(fixed.discount_percentage))) / 100,
    );
    fixed.line_total = (after / 100).toFixed(2);
    const owner = transactions.rows.find((t) => t.transaction_id === fixed.transaction_id)!;
    owner.total_amount = ((cents(owner.total_amount!) - before + after) / 100).toFixed(2);
    writeCsv(
      join(raw, 'transaction_items.csv'),
      items.header,
      items.rows.filter((i) => i.transaction_id !== gone.transaction_id),
    );
    writeCsv(
      join(raw, 'transactions.csv'),
      transactions.header,
      transactions.rows.filter((t) => t !== gone),
    );

    await runDay(bed, dataDir, '2025-01-02');

    const fact = await db.pool.query(
      `SELECT quantity, line_total::text FROM warehouse.fact_sales WHERE item_id = $1`,
      [fixed.item_id],
    );
    assert.deepEqual(fact.rows, [{ quantity: Number(fixed.quantity), line_total: fixed.line_total }]);
    const left = await db.pool.query(
      `SELECT (SELECT count(*) FROM warehouse.fact_sales WHERE transaction_id = $1)::int AS facts,
              (SELECT count(*) FROM production.transactions WHERE transaction_id = $1)::int AS transactions`,
      [gone.transaction_id],
    );
    assert.deepEqual(left.rows, [{ facts: 0, transactions: 0 }]);
    const withdrawn = await db.pool.query(
      `SELECT table_name, fact_id, business_date::text FROM production.withdrawn_facts ORDER BY table_name, fact_id`,
    );
    assert.deepEqual(withdrawn.rows, [
      ...goneItems
        .sort()
        .map((id) => ({ table_name: 'transaction_items', fact_id: id, business_date: '2025-01-02' })),
      { table_name: 'transactions', fact_id: gone.transaction_id, business_date: '2025-01-02' },
    ]);
    const summary = JSON.parse(
      readFileSync(join(dataDir, 'production', 'transformation_summary.json'), 'utf8'),
    ) as { tables: { transaction_items: { corrected: number; withdrawn: number } }; withdrawn_total: number };
    assert.equal(summary.tables.transaction_items.corrected, 1);
    assert.equal(summary.tables.transaction_items.withdrawn, goneItems.length);
    assert.equal(summary.withdrawn_total, goneItems.length + 1);

    // The same as loading the corrected files in the first place.
    const direct = mkdtempSync(join(tmpdir(), 'order-case-'));
    const reference = await load([FULL_LOAD, '2025-01-01'], direct);
    placeInput(dataDir, direct, '2025-01-02');
    await runDay(reference.bed, direct, '2025-01-02');
    placeInput(source, direct, '2025-01-03');
    await runDay(reference.bed, direct, '2025-01-03');
    assert.deepEqual(await stateChecksums(db), await stateChecksums(reference.db));
    assert.deepEqual(exportsOf(dataDir), exportsOf(direct));
  });

  it("5. a sale of a product missing from the day's file passes the gate and loads against its last version", async () => {
    const { bed, db, dataDir } = await load([FULL_LOAD, '2025-01-01']);
    placeInput(source, dataDir, '2025-01-02');
    const raw = join(dataDir, 'raw', '2025-01-02');
    const sold = readCsv(join(raw, 'transaction_items.csv')).rows[0]!;
    const products = readCsv(join(raw, 'products.csv'));
    writeCsv(
      join(raw, 'products.csv'),
      products.header,
      products.rows.filter((p) => p.product_id !== sold.product_id),
    );
    await runDay(bed, dataDir, '2025-01-02');
    const { rows } = await db.pool.query(
      `SELECT p.is_current, p.end_date::text AS end_date
       FROM warehouse.fact_sales f JOIN warehouse.dim_products p USING (product_key)
       WHERE f.item_id = $1`,
      [sold.item_id],
    );
    assert.deepEqual(rows, [{ is_current: false, end_date: '2025-01-02' }]);
    const quarantined = await db.pool.query(`SELECT count(*)::int AS n FROM pipeline.quarantine`);
    assert.deepEqual(quarantined.rows, [{ n: 0 }]);
  });
});
