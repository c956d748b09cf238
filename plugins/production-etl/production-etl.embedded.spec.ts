import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBed } from '@pipeline/kernel/testing';
import {
  BASELINE,
  productionBed,
  resetTables,
  runEtl,
  stage,
  stageDuplicateIds,
} from './production-etl.fixtures.js';

describe('production-etl on the embedded database', () => {
  let test: TestBed;

  before(async () => {
    test = await productionBed('embedded');
  });
  after(async () => {
    await test.dispose();
  });

  it('loads a snapshot, rejects an orphan, rebuilds the fact keys and indexes and adds nothing on a second run', async () => {
    await stage(test.db, {
      ...BASELINE,
      items: `${BASELINE.items}, ('ITEM00004', 'TXN09999', 'PROD0001', 1, 100.00, 0, 100.00)`,
    });

    const first = await runEtl(test, { config: { bulk_load: { min_new_rows: 1 } } });
    const second = await runEtl(test);

    assert.equal(first.summary.tables.transaction_items.inserted, 3);
    assert.deepEqual(first.summary.tables.transaction_items.reject_reasons, { orphan_transaction: 1 });
    assert.equal(first.summary.load.foreign_keys_revalidated.length, 3);
    assert.equal(first.summary.load.indexes_rebuilt.length, 8);
    assert.equal(second.summary.tables.transaction_items.inserted, 0);
    assert.equal(second.summary.tables.customers.unchanged, 3);
    const { rows } = await test.db.pool.query<{ items: number; keys: number }>(
      `SELECT (SELECT count(*) FROM production.transaction_items)::int AS items,
              (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'production'::regnamespace)::int AS keys`,
    );
    assert.deepEqual(rows, [{ items: 3, keys: 3 }]);
  });

  it('keeps one of several staged facts with the same id by the same rule as PostgreSQL', async () => {
    await resetTables(test.db);
    await stageDuplicateIds(test.db);

    const { summary } = await runEtl(test);

    assert.deepEqual(summary.tables.transactions.reject_reasons, {
      duplicate_id: 3,
      missing_field: 2,
      negative_total: 1,
    });
    assert.deepEqual(summary.tables.transaction_items.reject_reasons, {
      duplicate_id: 3,
      missing_field: 2,
      non_positive_quantity: 1,
    });
    const { rows } = await test.db.pool.query<{ id: string; kept: string }>(
      `SELECT transaction_id AS id, payment_method || ', ' || shipping_address AS kept
       FROM production.transactions WHERE transaction_id IN ('TXN00001', 'TXN00002')
       UNION ALL
       SELECT item_id, quantity::text FROM production.transaction_items
       ORDER BY 1`,
    );
    assert.deepEqual(rows, [
      { id: 'ITEM00001', kept: '4' },
      { id: 'ITEM00002', kept: '2' },
      { id: 'ITEM00003', kept: '2' },
      { id: 'ITEM00004', kept: '1' },
      { id: 'TXN00001', kept: 'Debit Card, 1 Main St' },
      { id: 'TXN00002', kept: 'PayPal, 1 High St' },
    ]);
  });

  it('rejects a NaN price, a third decimal and an infinite date as PostgreSQL does', async () => {
    await resetTables(test.db);
    await stage(test.db, {
      customers: BASELINE.customers,
      products: `${BASELINE.products},
        ('PROD0003', 'Nan Price', 'Misc', NULL, 'NaN', 5.00, NULL, 1, NULL),
        ('PROD0004', 'Odd Cent', 'Misc', NULL, 10.005, 5.00, NULL, 1, NULL)`,
      transactions: `${BASELINE.transactions},
        ('TXN00003', 'CUST0003', '-infinity', NULL, 'Cash', NULL, 20.00)`,
      items: `${BASELINE.items}, ('ITEM00004', 'TXN00002', 'PROD0002', 1, 20.00, 0, 'Infinity')`,
    });

    const { summary } = await runEtl(test);

    assert.deepEqual(summary.tables.products.reject_reasons, {
      more_than_two_decimals: 1,
      non_finite_number: 1,
    });
    assert.deepEqual(summary.tables.transactions.reject_reasons, { implausible_date: 1 });
    assert.deepEqual(summary.tables.transaction_items.reject_reasons, { non_finite_number: 1 });
  });
});
