import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stageOptionsOf, type StageOptions } from '../../libs/kernel/index.js';
import { freshEmbedded, type TestDatabase } from '../../test/support/databases.js';
import { testContext } from '../../test/support/stage-context.js';
import { addTransactions, putCustomers, putProducts, tableChecksums } from './warehouse.fixtures.js';
import { WarehouseStage } from './warehouse.stage.js';

// The same SQL has to run on the embedded database (PGlite) as on PostgreSQL 15: one pass over
// every statement the stage has, including the large-load path.
describe('warehouse stage on the embedded database', () => {
  let test: TestDatabase;

  before(async () => {
    test = await freshEmbedded();
  });
  after(async () => test?.dispose());

  it('loads, versions a moved customer, and repeats a run without changing anything', async () => {
    const db = test.db;
    const run = (runDate: string, largeLoadThreshold: number) =>
      new WarehouseStage().run(
        testContext(db, {
          stage: stageOptionsOf(WarehouseStage) as StageOptions,
          runDate,
          config: { warehouse: { large_load_threshold: largeLoadThreshold } },
        }) as Parameters<WarehouseStage['run']>[0],
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
    const first = await run('2024-03-03', 1);
    assert.equal(first.details?.large_load, true);

    await putCustomers(db, [
      { id: 'C1', city: 'Shelbyville' },
      { id: 'C2', active: false },
    ]);
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
});
