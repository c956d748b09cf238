import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PermanentError } from '@pipeline/kernel';
import type { TestBed } from '@pipeline/kernel/testing';
import {
  addTransactions,
  putCustomers,
  putProducts,
  tableChecksums,
  warehouseBed,
} from './warehouse.fixtures.js';
import { WarehouseStage } from './warehouse.stage.js';

// The same SQL has to run on the embedded database (PGlite) as on PostgreSQL 15: one pass over
// every statement the stage has, including the large-load path.
describe('warehouse stage on the embedded database', () => {
  let test: TestBed;

  before(async () => {
    test = await warehouseBed({ database: 'embedded' });
  });
  after(async () => test?.dispose());

  it('names a first-load lookup miss, loads, versions a moved customer, and repeats a run unchanged', async () => {
    const db = test.db;
    const run = (runDate: string, largeLoadThreshold: number) =>
      new WarehouseStage().run(
        test.context<Parameters<WarehouseStage['run']>[0]['settings']>('warehouse', {
          runDate,
          config: { warehouse: { large_load_threshold: largeLoadThreshold } },
        }),
      );
    await putCustomers(db, [{ id: 'C1' }, { id: 'C2' }]);
    await putProducts(db, [{ id: 'P1' }]);
    await addTransactions(db, [
      {
        id: 'T1',
        customer: 'C1',
        date: '2024-03-01',
        items: [{ id: 'I1', product: 'P1', quantity: 2, unitPrice: '100.00', discount: 10 }],
      },
      {
        id: 'T2',
        customer: 'C2',
        date: '2024-03-03',
        paymentMethod: 'Cash on Delivery',
        items: [{ id: 'I2', product: 'P1', quantity: 1, unitPrice: '100.00' }],
      },
    ]);
    // The first-load path's lookup miss (a NOT NULL violation undone to a savepoint) names the item.
    await putCustomers(db, [{ id: 'C9', active: false }]);
    await addTransactions(db, [
      {
        id: 'T9',
        customer: 'C9',
        date: '2024-03-02',
        items: [{ id: 'I9', product: 'P1', quantity: 1, unitPrice: '100.00' }],
      },
    ]);
    await assert.rejects(run('2024-03-03', 1), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /I9: customer_key \(no dim_customers version of C9 valid on 2024-03-02\)/);
      return true;
    });
    await db.pool.query(`DELETE FROM production.transaction_items WHERE item_id = 'I9'`);
    await db.pool.query(`DELETE FROM production.transactions WHERE transaction_id = 'T9'`);

    const first = await run('2024-03-03', 1);
    assert.equal(first.details?.large_load, true);

    await putCustomers(
      db,
      [
        { id: 'C1', city: 'Shelbyville' },
        { id: 'C2', active: false },
      ],
      '2024-03-04',
    );
    await addTransactions(db, [
      {
        id: 'T3',
        customer: 'C1',
        date: '2024-03-04',
        items: [{ id: 'I3', product: 'P1', quantity: 1, unitPrice: '100.00' }],
      },
    ]);
    await run('2024-03-04', 100_000);
    const once = await tableChecksums(db);
    await run('2024-03-04', 100_000);
    assert.deepEqual(await tableChecksums(db), once);

    const { rows } = await db.pool.query(
      `SELECT f.item_id, c.city, c.is_current, d.day_name
       FROM warehouse.fact_sales f JOIN warehouse.dim_customers c USING (customer_key) JOIN warehouse.dim_date d USING (date_key)
       ORDER BY f.item_id`,
    );
    assert.deepEqual(rows, [
      { item_id: 'I1', city: 'Springfield', is_current: false, day_name: 'Friday' },
      { item_id: 'I2', city: 'Springfield', is_current: false, day_name: 'Sunday' },
      { item_id: 'I3', city: 'Shelbyville', is_current: true, day_name: 'Monday' },
    ]);
    const { rows: fks } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'warehouse.fact_sales'::regclass AND contype = 'f' AND convalidated`,
    );
    assert.equal(fks[0]?.n, 4);
  });

  it('sets aside sales dated at an infinite or far-future date, naming them, and goes on', async () => {
    const db = test.db;
    await addTransactions(db, [
      {
        id: 'T8',
        customer: 'C1',
        date: '99999-01-01',
        items: [{ id: 'I8', product: 'P1', quantity: 1, unitPrice: '100.00' }],
      },
      {
        id: 'T9',
        customer: 'C1',
        date: '-infinity',
        items: [{ id: 'I9', product: 'P1', quantity: 1, unitPrice: '100.00' }],
      },
    ]);
    const days = async () =>
      (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM warehouse.dim_date')).rows[0]?.n;
    const before = await days();
    const result = await new WarehouseStage().run(
      test.context<Parameters<WarehouseStage['run']>[0]['settings']>('warehouse', {
        runDate: '2024-03-05',
      }),
    );
    assert.match(
      result.warnings?.[0] ?? '',
      /2 production\.transactions row\(s\) set aside, .*: T9 \(-infinity\), T8 \(99999-01-01\)/,
    );
    assert.equal(await days(), before);
    const { rows } = await db.pool.query(
      `SELECT item_id FROM warehouse.fact_sales WHERE item_id IN ('I8', 'I9')`,
    );
    assert.deepEqual(rows, []);
  });
});
