/**
 * The five ways the order of runs used to go wrong (issue 15), each as a named case: a redo of an
 * earlier date, missed days backfilled later, users' own files and their dates, a day rerun with
 * corrected files, and a sale of a product missing from the day's file; then two rules of the
 * history: a date loaded before an earlier date it depends on, and a customer who returned on the
 * day of their purchase. Each compares with the in-order build where the rule says they must
 * agree (order-of-runs.spec.ts is the general form).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { datesBetween, PermanentError, type StageContext } from '../../libs/kernel/index.js';
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

  /**
   * A fresh database and data folder; `dates` are loaded in the order given, each with its input
   * from `from` (default: the generated one).
   */
  async function load(
    dates: readonly string[],
    dataDir = mkdtempSync(join(tmpdir(), 'order-case-')),
    from = source,
  ) {
    const bed = await dayBed();
    tests.push(bed);
    for (const date of dates) {
      placeInput(from, dataDir, date);
      await runDay(bed, dataDir, date);
    }
    return { bed, db: bed.db, dataDir };
  }

  /** A copy of the generated input of `dates`, to edit: its folder (`<folder>/raw/<date>/`). */
  function copyOfInput(dates: readonly string[]): string {
    const folder = mkdtempSync(join(tmpdir(), 'order-edited-'));
    for (const date of dates) placeInput(source, folder, date);
    return folder;
  }

  /** Production, the warehouse and the exports of two builds are the same. */
  async function assertSameBuild(
    a: { db: TestBed['db']; dataDir: string },
    b: { db: TestBed['db']; dataDir: string },
  ): Promise<void> {
    assert.deepEqual(await stateChecksums(a.db), await stateChecksums(b.db));
    assert.deepEqual(exportsOf(a.dataDir), exportsOf(b.dataDir));
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

    const logged: { message: string; fields: Record<string, unknown> }[] = [];
    const logger: StageContext['logger'] = {
      debug: () => undefined,
      info: () => undefined,
      warn: (message, fields = {}) => void logged.push({ message, fields }),
      error: () => undefined,
      child: () => logger,
    };
    const redo = await runDay(bed, dataDir, '2025-01-02', {}, logger);

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
    // Kept by the redo's run, counted in its report and logged.
    const withdrawn = await db.pool.query(
      `SELECT table_name, fact_id, business_date::text, run_id FROM production.withdrawn_facts ORDER BY table_name, fact_id`,
    );
    const runId = redo.runId;
    assert.deepEqual(withdrawn.rows, [
      ...goneItems.sort().map((id) => ({
        table_name: 'transaction_items',
        fact_id: id,
        business_date: '2025-01-02',
        run_id: runId,
      })),
      {
        table_name: 'transactions',
        fact_id: gone.transaction_id,
        business_date: '2025-01-02',
        run_id: runId,
      },
    ]);
    const etl = redo.outcomes.find((o) => o.stage === 'production-etl')!.result!;
    assert.ok(
      etl.warnings?.includes(
        `${goneItems.length + 1} facts of 2025-01-02 withdrawn: its input no longer holds them (production.withdrawn_facts, run ${runId})`,
      ),
      `the run report warns of the withdrawn facts: ${JSON.stringify(etl.warnings)}`,
    );
    assert.equal(etl.details?.withdrawn_total, goneItems.length + 1);
    assert.deepEqual(
      logged.filter((l) => l.message.startsWith('facts withdrawn')),
      [
        {
          message: 'facts withdrawn: the input of their business date no longer holds them',
          fields: {
            businessDate: '2025-01-02',
            transactions: 1,
            items: goneItems.length,
            table: 'production.withdrawn_facts',
          },
        },
      ],
    );
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

  it('6. a date loaded before an earlier date it depends on fails the gate naming the reference; loading the earlier date, then it again, gives the in-order build', async () => {
    const [earlier, later] = ['2025-01-02', '2025-01-03'];
    const edited = copyOfInput([FULL_LOAD, '2025-01-01', earlier, later]);
    const raw = (date: string, file: string) => join(edited, 'raw', date, file);
    // A product that enters the source on the earlier date and has left it again on the later one,
    // sold on the later one...
    const products = readCsv(raw(earlier, 'products.csv'));
    const newcomer = { ...products.rows[0]!, product_id: 'PROD9999', product_name: 'Newcomer' };
    writeCsv(raw(earlier, 'products.csv'), products.header, [...products.rows, newcomer]);
    const items = readCsv(raw(later, 'transaction_items.csv'));
    const sold = items.rows[0]!;
    sold.product_id = newcomer.product_id;
    // ...and a late line of a transaction of the earlier date, arriving with the later date's files.
    const owner = readCsv(raw(earlier, 'transactions.csv')).rows[0]!;
    const late = { ...items.rows[1]!, item_id: 'ITEM99999999', transaction_id: owner.transaction_id! };
    writeCsv(raw(later, 'transaction_items.csv'), items.header, [...items.rows, late]);

    const inOrderBuild = await load([FULL_LOAD, '2025-01-01', earlier, later], undefined, edited);

    // The later date first: the gate judges references by what is loaded before its date, never
    // by dates loaded after it, so both references are orphans for now.
    const { bed, db, dataDir } = await load([FULL_LOAD, '2025-01-01'], undefined, edited);
    placeInput(edited, dataDir, later);
    let failedRun = '';
    await assert.rejects(runDay(bed, dataDir, later), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /transaction_items_orphan_product failed 1 of \d+ rows/);
      assert.match(error.message, /transaction_items_orphan_transaction failed 1 of \d+ rows/);
      failedRun = /quality gate closed for run (\S+):/.exec(error.message)![1]!;
      return true;
    });
    const quarantined = await db.pool.query(
      `SELECT row_id, reason FROM pipeline.quarantine WHERE run_id = $1 ORDER BY check_name`,
      [failedRun],
    );
    assert.deepEqual(quarantined.rows, [
      {
        row_id: sold.item_id,
        reason: `product_id PROD9999 not in staging.products nor known before ${later}`,
      },
      {
        row_id: late.item_id,
        reason: `transaction_id ${owner.transaction_id} not in staging.transactions nor loaded before ${later}`,
      },
    ]);
    const facts = await db.pool.query(
      `SELECT count(*)::int AS n FROM production.transaction_items WHERE item_id = $1`,
      [sold.item_id],
    );
    assert.deepEqual(facts.rows, [{ n: 0 }], 'nothing of the later date was loaded');

    // The remedy: load the earlier date, then the later one again (what `backfill` over both does).
    placeInput(edited, dataDir, earlier);
    await runDay(bed, dataDir, earlier);
    await runDay(bed, dataDir, later);
    await assertSameBuild({ db, dataDir }, inOrderBuild);
  });

  it('7. a customer who returned on the day of their purchase: the sale gets the version that starts that day, in and out of order', async () => {
    const [absent, returned] = ['2025-01-02', '2025-01-03'];
    const edited = copyOfInput([FULL_LOAD, '2025-01-01', absent, returned]);
    const raw = (date: string, file: string) => join(edited, 'raw', date, file);
    const customersOn = (date: string) => readCsv(raw(date, 'customers.csv'));
    const presentBefore = new Set(
      customersOn('2025-01-01')
        .rows.map((c) => c.customer_id)
        .filter((id) => customersOn(absent).rows.some((c) => c.customer_id === id)),
    );
    const buyersOnAbsent = new Set(readCsv(raw(absent, 'transactions.csv')).rows.map((t) => t.customer_id));
    // A buyer of the later date, present before, missing from the earlier date's snapshot only.
    const sale = readCsv(raw(returned, 'transactions.csv')).rows.find(
      (t) => presentBefore.has(t.customer_id!) && !buyersOnAbsent.has(t.customer_id),
    )!;
    const snapshot = customersOn(absent);
    writeCsv(
      raw(absent, 'customers.csv'),
      snapshot.header,
      snapshot.rows.filter((c) => c.customer_id !== sale.customer_id),
    );

    const versionsOfTheSale = async (db: TestBed['db']) =>
      (
        await db.pool.query(
          `SELECT DISTINCT c.effective_date::text AS effective_date, c.is_current
           FROM warehouse.fact_sales f JOIN warehouse.dim_customers c USING (customer_key)
           WHERE f.transaction_id = $1`,
          [sale.transaction_id],
        )
      ).rows;
    const inOrderBuild = await load([FULL_LOAD, '2025-01-01', absent, returned], undefined, edited);
    const outOfOrder = await load([FULL_LOAD, '2025-01-01', returned, absent], undefined, edited);
    for (const build of [inOrderBuild, outOfOrder]) {
      assert.deepEqual(await versionsOfTheSale(build.db), [{ effective_date: returned, is_current: true }]);
      const before = await build.db.pool.query(
        `SELECT end_date::text AS end_date FROM warehouse.dim_customers
         WHERE customer_id = $1 AND effective_date < $2 ORDER BY effective_date DESC LIMIT 1`,
        [sale.customer_id, returned],
      );
      assert.deepEqual(
        before.rows,
        [{ end_date: absent }],
        'the version before it ended when the customer left',
      );
    }
    await assertSameBuild(outOfOrder, inOrderBuild);
  });
});
