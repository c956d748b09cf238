import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
import type { StageTransaction } from '@pipeline/kernel';
import { productionEtlConfigSchema } from './production-etl.config.js';
import {
  BASELINE,
  productionBed,
  resetTables,
  runEtl,
  stage,
  stageDuplicateIds,
} from './production-etl.fixtures.js';
import { ProductionLoadRepository } from './production-load.repository.js';

describe('production-etl on PostgreSQL', { skip: await postgresUnavailable() }, () => {
  let test: TestBed;
  const q = async <R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> =>
    (await test.db.pool.query<R>(sql, params)).rows;

  before(async () => {
    test = await productionBed('postgres');
  });
  after(async () => {
    await test.dispose();
  });
  beforeEach(async () => {
    await resetTables(test.db);
  });

  it('cleanses names, emails, phones and text exactly as specified', async () => {
    await stage(test.db, {
      customers: `
        ('  CUST0001 ', '  mARY-jane ', ' o''BRIEN ', '  Mary.OBrien@Example.COM ', ' +1 (555) 010-2030 ', '2024-01-05', ' Springfield ', '  IL', ' USA ', '25-34'),
        ('CUST0002', 'BOB', 'van der berg', 'BOB@EXAMPLE.COM', '555.010.9999 ', '2024-01-06', '', '   ', 'USA', ' ')`,
      products: `
        (' PROD0001 ', ' Studio Headphones ', '  Electronics ', ' Audio ', 100.00, 60.00, ' Acme ', 5, ' SUP01 '),
        ('PROD0002', 'Mug', 'Home', '', 49.99, 10.00, '  ', NULL, 'SUP02'),
        ('PROD0003', 'Desk', 'Furniture', 'Office', 200.00, 150.00, 'Oak', 3, 'SUP03'),
        ('PROD0004', 'Lamp', 'Home', 'Lighting', 50.00, 20.00, 'Lux', 7, 'SUP04')`,
    });

    const { summary } = await runEtl(test);

    assert.deepEqual(
      await q(
        'SELECT customer_id, first_name, last_name, email, phone, city, state, country, age_group FROM production.customers ORDER BY customer_id',
      ),
      [
        {
          customer_id: 'CUST0001',
          first_name: 'Mary-Jane',
          last_name: "O'Brien",
          email: 'mary.obrien@example.com',
          phone: '+15550102030',
          city: 'Springfield',
          state: 'IL',
          country: 'USA',
          age_group: '25-34',
        },
        {
          customer_id: 'CUST0002',
          first_name: 'Bob',
          last_name: 'Van Der Berg',
          email: 'bob@example.com',
          phone: '5550109999',
          city: null,
          state: null,
          country: 'USA',
          age_group: null,
        },
      ],
    );
    assert.deepEqual(
      await q(
        `SELECT product_id, product_name, category, sub_category, brand, stock_quantity, supplier_id, profit_margin::text, price_category
         FROM production.products ORDER BY product_id`,
      ),
      [
        {
          product_id: 'PROD0001',
          product_name: 'Studio Headphones',
          category: 'Electronics',
          sub_category: 'Audio',
          brand: 'Acme',
          stock_quantity: 5,
          supplier_id: 'SUP01',
          profit_margin: '40.00',
          price_category: 'Mid-range',
        },
        {
          product_id: 'PROD0002',
          product_name: 'Mug',
          category: 'Home',
          sub_category: null,
          brand: null,
          stock_quantity: 0,
          supplier_id: 'SUP02',
          profit_margin: '80.00',
          price_category: 'Budget',
        },
        {
          product_id: 'PROD0003',
          product_name: 'Desk',
          category: 'Furniture',
          sub_category: 'Office',
          brand: 'Oak',
          stock_quantity: 3,
          supplier_id: 'SUP03',
          profit_margin: '25.00',
          price_category: 'Premium',
        },
        {
          product_id: 'PROD0004',
          product_name: 'Lamp',
          category: 'Home',
          sub_category: 'Lighting',
          brand: 'Lux',
          stock_quantity: 7,
          supplier_id: 'SUP04',
          profit_margin: '60.00',
          price_category: 'Mid-range',
        },
      ],
    );
    const applied = Object.fromEntries(summary.transformations.map((t) => [t.name, t.rows_affected]));
    assert.deepEqual(applied, {
      trim_text: 4,
      empty_to_null: 2,
      title_case_names: 2,
      lower_case_emails: 2,
      normalize_phones: 2,
      derive_profit_margin: 4,
      derive_price_category: 4,
    });
  });

  it('keeps the digits of any phone and a leading + only, whichever way it is written', async () => {
    // The cleansing takes a shortcut for numbers written with dashes only; every other spelling
    // goes the general way. Both must give what the rule says.
    const phones = [
      ['+1-486-486-3939', '+14864863939'],
      ['486-486-3939', '4864863939'],
      ['+-12', '+12'],
      ['-+12', '12'],
      ['--1', '1'],
      [' +1 (555) 010-2030 ', '+15550102030'],
      ['1+2', '12'],
      ['+', null],
      ['---', null],
      ['', null],
      ['１２３', null],
      [null, null],
    ] as const;
    await stage(test.db, {
      customers: phones
        .map(
          ([phone], i) =>
            `('CUST${i}', 'A', 'B', 'c${i}@example.com', ${phone === null ? 'NULL' : `'${phone}'`}, '2024-01-01', NULL, NULL, NULL, NULL)`,
        )
        .join(','),
    });

    const { summary } = await runEtl(test);

    const loaded = await q<{ customer_id: string; phone: string | null }>(
      'SELECT customer_id, phone FROM production.customers',
    );
    const byId = new Map(loaded.map((row) => [row.customer_id, row.phone]));
    assert.deepEqual(
      phones.map(([phone], i) => [phone, byId.get(`CUST${i}`)]),
      phones.map(([phone, expected]) => [phone, expected]),
    );
    // Changed: every non-empty phone that is not already an optional + followed by digits.
    const applied = Object.fromEntries(summary.transformations.map((t) => [t.name, t.rows_affected]));
    assert.equal(applied.normalize_phones, 10);
  });

  it('classifies customers alike when the cleansing is split over a parallel worker, and restores the planner settings', async () => {
    await stage(test.db, {
      customers: `
        ('  CUST0001 ', '  mARY-jane ', ' o''BRIEN ', '  Mary.OBrien@Example.COM ', ' +1 (555) 010-2030 ', '2024-01-05', ' Springfield ', '  IL', ' USA ', '25-34'),
        ('CUST0002', 'BOB', 'van der berg', 'BOB@EXAMPLE.COM', '555.010.9999 ', '2024-01-06', '', '   ', 'USA', ' '),
        ('CUST0003', 'Ada', 'Lovelace', 'ada@example.com', '-+1-555', NULL, 'London', 'LDN', 'UK', '25-34'),
        ('CUST0002', 'Bob', 'Again', 'bob@example.com', '5550109999', '2024-01-07', 'X', 'Y', 'USA', '35-44')`,
    });
    const planner = `SELECT current_setting('parallel_setup_cost') AS setup, current_setting('parallel_tuple_cost') AS tuple,
                            current_setting('max_parallel_workers_per_gather') AS workers`;
    const classify = async (parallel: boolean): Promise<Record<string, unknown>[]> => {
      const client = await test.db.pool.connect();
      try {
        await client.query('BEGIN');
        // A table this small stays on one core unless told otherwise.
        if (parallel) await client.query('SET LOCAL min_parallel_table_scan_size = 0');
        const before = (await client.query(planner)).rows;
        const tx = { query: (sql: string, params?: unknown[]) => client.query(sql, params) };
        const repository = new ProductionLoadRepository(tx as unknown as StageTransaction);
        await repository.prepare(
          '00000000-0000-4000-8000-000000000000',
          '2025-03-01',
          productionEtlConfigSchema.parse({}),
        );
        await repository.loadStateBefore();
        await repository.classifyCustomers();
        assert.deepEqual((await client.query(planner)).rows, before);
        return (await client.query('SELECT * FROM etl_customers ORDER BY src')).rows;
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    const serial = await classify(false);
    assert.equal(serial.length, 4);
    assert.deepEqual(await classify(true), serial);
  });

  it('takes the price bands from config', async () => {
    await stage(test.db, {
      products: `('PROD0001', 'Desk', 'Furniture', NULL, 200.00, 150.00, NULL, 1, NULL)`,
    });
    await runEtl(test, { config: { price_category: { budget_max: 500, mid_max: 1000 } } });
    assert.deepEqual(await q('SELECT price_category FROM production.products'), [
      { price_category: 'Budget' },
    ]);
  });
  it('adds nothing and moves no updated_at when the same snapshot runs twice', async () => {
    await stage(test.db, BASELINE);
    const first = await runEtl(test);
    const stamps = async () =>
      q(`SELECT 'c' || customer_id AS id, updated_at::text FROM production.customers
         UNION ALL SELECT 'p' || product_id, updated_at::text FROM production.products ORDER BY 1`);
    const before = await stamps();
    const counts = async () =>
      q(`SELECT (SELECT count(*) FROM production.customers)::int AS customers, (SELECT count(*) FROM production.products)::int AS products,
                (SELECT count(*) FROM production.transactions)::int AS transactions, (SELECT count(*) FROM production.transaction_items)::int AS items`);
    assert.deepEqual(await counts(), [{ customers: 3, products: 2, transactions: 2, items: 3 }]);
    assert.equal(first.summary.tables.transaction_items.inserted, 3);

    const second = await runEtl(test);

    assert.deepEqual(await counts(), [{ customers: 3, products: 2, transactions: 2, items: 3 }]);
    assert.deepEqual(await stamps(), before);
    assert.deepEqual(second.summary.tables.customers, {
      records_in: 3,
      records_out: 3,
      rejected: 0,
      inserted: 0,
      updated: 0,
      reactivated: 0,
      unchanged: 3,
      deactivated: 0,
      members_changed: 0,
      production_rows_written: 0,
      reject_reasons: {},
    });
    assert.deepEqual(second.summary.tables.transactions, {
      records_in: 2,
      records_out: 2,
      rejected: 0,
      inserted: 0,
      already_present: 2,
      corrected: 0,
      taken_over: 0,
      ignored_changed_facts: 0,
      withdrawn: 0,
      promoted: 0,
      reject_reasons: {},
    });
    assert.deepEqual(second.result.rows, [
      { table: 'production.customers', read: 3, written: 0, rejected: 0 },
      { table: 'production.products', read: 2, written: 0, rejected: 0 },
      { table: 'production.transactions', read: 2, written: 0, rejected: 0 },
      { table: 'production.transaction_items', read: 3, written: 0, rejected: 0 },
    ]);
  });

  it('updates a changed customer and only that one', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    const before = await q<{ customer_id: string; updated_at: Date }>(
      'SELECT customer_id, updated_at FROM production.customers ORDER BY customer_id',
    );
    await stage(test.db, {
      ...BASELINE,
      customers: BASELINE.customers.replace("'Wilmslow', 'CHS'", "'Manchester', 'GTM'"),
    });

    const { summary } = await runEtl(test);

    assert.equal(summary.tables.customers.updated, 1);
    assert.equal(summary.tables.customers.unchanged, 2);
    const after = await q<{ customer_id: string; city: string; updated_at: Date }>(
      'SELECT customer_id, city, updated_at FROM production.customers ORDER BY customer_id',
    );
    assert.deepEqual(
      after.map((c) => c.city),
      ['London', 'Manchester', 'Arlington'],
    );
    assert.deepEqual(
      after.map((c, i) => c.updated_at.getTime() === before[i]!.updated_at.getTime()),
      [true, false, true],
    );
  });

  it('keeps a customer that left the snapshot as inactive and reactivates it when it returns', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    const withoutGrace = BASELINE.customers
      .split('\n')
      .filter((line) => !line.includes('CUST0003'))
      .join('\n')
      .replace(/,\s*$/, '');
    await stage(test.db, { ...BASELINE, customers: withoutGrace });

    const removed = await runEtl(test, { runDate: '2025-03-02' });

    assert.equal(removed.summary.tables.customers.deactivated, 1);
    assert.deepEqual(
      await q(
        `SELECT customer_id, is_active, removed_at = TIMESTAMPTZ '2025-03-02 00:00:00+00' AS removed_on_run_date FROM production.customers ORDER BY customer_id`,
      ),
      [
        { customer_id: 'CUST0001', is_active: true, removed_on_run_date: null },
        { customer_id: 'CUST0002', is_active: true, removed_on_run_date: null },
        { customer_id: 'CUST0003', is_active: false, removed_on_run_date: true },
      ],
    );
    const stillRemoved = await runEtl(test, { runDate: '2025-03-03' });
    assert.equal(stillRemoved.summary.tables.customers.deactivated, 0);

    await stage(test.db, BASELINE);
    const back = await runEtl(test, { runDate: '2025-03-04' });

    assert.equal(back.summary.tables.customers.reactivated, 1);
    assert.deepEqual(
      await q(`SELECT is_active, removed_at FROM production.customers WHERE customer_id = 'CUST0003'`),
      [{ is_active: true, removed_at: null }],
    );
  });

  it('loads new facts of a customer that was removed from the snapshot', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    const withoutGrace = BASELINE.customers
      .split('\n')
      .filter((line) => !line.includes('CUST0003'))
      .join('\n')
      .replace(/,\s*$/, '');
    await stage(test.db, {
      ...BASELINE,
      customers: withoutGrace,
      transactions: `${BASELINE.transactions}, ('TXN00003', 'CUST0003', '2024-02-03', NULL, 'Cash on Delivery', NULL, 20.00)`,
      items: `${BASELINE.items}, ('ITEM00004', 'TXN00003', 'PROD0002', 1, 20.00, 0, 20.00)`,
    });

    const { summary } = await runEtl(test);

    assert.equal(summary.tables.transactions.inserted, 1);
    assert.equal(summary.tables.transaction_items.inserted, 1);
    assert.equal(summary.rejected_total, 0);
    assert.deepEqual(
      await q(
        `SELECT t.transaction_id, c.is_active FROM production.transactions t JOIN production.customers c USING (customer_id) WHERE t.transaction_id = 'TXN00003'`,
      ),
      [{ transaction_id: 'TXN00003', is_active: false }],
    );
  });

  it('rejects rows that break a rule, counts them by reason and keeps their raw data once per run', async () => {
    await stage(test.db, {
      customers: `${BASELINE.customers},
        ('CUST0004', 'No', 'Email', '  ', NULL, '2024-01-04', NULL, NULL, NULL, NULL),
        ('CUST0005', 'Copy', 'Cat', 'ADA@example.com', NULL, '2024-01-05', NULL, NULL, NULL, NULL)`,
      products: `${BASELINE.products},
        ('PROD0003', 'Free', 'Misc', NULL, 0.00, 0.00, NULL, 1, NULL),
        ('PROD0004', 'Loss', 'Misc', NULL, 10.00, 12.00, NULL, 1, NULL),
        ('PROD0005', 'Odd', 'Misc', NULL, 10.00, -1.00, NULL, 1, NULL)`,
      transactions: `${BASELINE.transactions},
        ('TXN00003', 'CUST9999', '2024-02-03', NULL, 'PayPal', NULL, 10.00),
        ('TXN00004', 'CUST0004', '2024-02-04', NULL, 'PayPal', NULL, 10.00)`,
      items: `${BASELINE.items},
        ('ITEM00004', 'TXN00002', 'PROD0002', 0, 20.00, 0, 0.00),
        ('ITEM00005', 'TXN00002', 'PROD0002', 1, 20.00, 101, 0.00),
        ('ITEM00006', 'TXN00003', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00007', 'TXN00002', 'PROD9999', 1, 20.00, 0, 20.00),
        ('ITEM00008', 'TXN00002', 'PROD0003', 1, 20.00, 0, 20.00)`,
    });

    const run = await runEtl(test);

    const { tables } = run.summary;
    assert.deepEqual(tables.customers.reject_reasons, { duplicate_email: 1, missing_field: 1 });
    assert.deepEqual(tables.products.reject_reasons, {
      cost_not_below_price: 1,
      negative_cost: 1,
      non_positive_price: 1,
    });
    assert.deepEqual(tables.transactions.reject_reasons, { orphan_customer: 2 });
    assert.deepEqual(tables.transaction_items.reject_reasons, {
      discount_out_of_range: 1,
      non_positive_quantity: 1,
      orphan_product: 2,
      orphan_transaction: 1,
    });
    assert.equal(run.summary.rejected_total, 12);
    assert.deepEqual(
      run.result.rows?.map((r) => r.rejected),
      [2, 3, 2, 5],
    );
    assert.deepEqual(await q(`SELECT customer_id FROM production.customers ORDER BY customer_id`), [
      { customer_id: 'CUST0001' },
      { customer_id: 'CUST0002' },
      { customer_id: 'CUST0003' },
    ]);
    const kept = await q<{
      table_name: string;
      row_id: string;
      reason: string;
      row_data: Record<string, unknown>;
    }>(
      `SELECT table_name, row_id, reason, row_data FROM production.rejected_rows WHERE run_id = $1 AND row_id = 'CUST0005'`,
      [run.runId],
    );
    assert.equal(kept.length, 1);
    assert.equal(kept[0]!.reason, 'duplicate_email');
    assert.equal(kept[0]!.table_name, 'customers');
    assert.equal(kept[0]!.row_data.email, 'ADA@example.com');
    assert.equal(kept[0]!.row_data.first_name, 'Copy');

    await runEtl(test, { runId: run.runId });
    assert.deepEqual(
      await q(`SELECT count(*)::int AS n FROM production.rejected_rows WHERE run_id = $1`, [run.runId]),
      [{ n: 12 }],
    );
  });

  it('keeps one of several staged rows with the same id by a fixed rule and rejects the others', async () => {
    await stage(test.db, {
      customers: `${BASELINE.customers},
        ('CUST0001', 'Ada', 'Byron', 'ada.byron@example.com', NULL, '2024-01-01', 'London', NULL, 'UK', NULL)`,
    });

    const { summary } = await runEtl(test);

    assert.deepEqual(summary.tables.customers.reject_reasons, { duplicate_id: 1 });
    // Same load time: the first by the raw row's text in byte order ("Byron" < "Lovelace") wins.
    assert.deepEqual(await q(`SELECT last_name FROM production.customers WHERE customer_id = 'CUST0001'`), [
      { last_name: 'Byron' },
    ]);
  });

  it('keeps the latest loaded of several staged facts with the same id, then the first by raw text', async () => {
    await stageDuplicateIds(test.db);

    const run = await runEtl(test);

    const { tables } = run.summary;
    assert.deepEqual(tables.transactions.reject_reasons, {
      duplicate_id: 3,
      missing_field: 2,
      negative_total: 1,
    });
    assert.deepEqual(tables.transaction_items.reject_reasons, {
      duplicate_id: 3,
      missing_field: 2,
      non_positive_quantity: 1,
    });
    // TXN00001: the copy loaded later wins; TXN00002: loaded together, "1 High St" < "2 High St";
    // TXN00003: its later copy breaks a rule, so the other one is not a duplicate.
    assert.deepEqual(
      await q(
        `SELECT transaction_id, payment_method, shipping_address FROM production.transactions ORDER BY 1`,
      ),
      [
        { transaction_id: 'TXN00001', payment_method: 'Debit Card', shipping_address: '1 Main St' },
        { transaction_id: 'TXN00002', payment_method: 'PayPal', shipping_address: '1 High St' },
        { transaction_id: 'TXN00003', payment_method: 'Cash', shipping_address: null },
      ],
    );
    // ITEM00002: the padded copy's raw text (" ITEM00002 ") sorts before the unpadded one's.
    assert.deepEqual(await q(`SELECT item_id, quantity FROM production.transaction_items ORDER BY 1`), [
      { item_id: 'ITEM00001', quantity: 4 },
      { item_id: 'ITEM00002', quantity: 2 },
      { item_id: 'ITEM00003', quantity: 2 },
      { item_id: 'ITEM00004', quantity: 1 },
    ]);
    assert.deepEqual(
      await q(
        `SELECT table_name, row_data->>'payment_method' AS payment_method, row_data->>'shipping_address' AS shipping_address,
                (row_data->>'quantity')::int AS quantity
         FROM production.rejected_rows WHERE run_id = $1 AND reason = 'duplicate_id' ORDER BY 1, 2, 3, 4`,
        [run.runId],
      ),
      [
        { table_name: 'transaction_items', payment_method: null, shipping_address: null, quantity: 1 },
        { table_name: 'transaction_items', payment_method: null, shipping_address: null, quantity: 2 },
        { table_name: 'transaction_items', payment_method: null, shipping_address: null, quantity: 3 },
        { table_name: 'transactions', payment_method: 'Cash', shipping_address: '1 Main St', quantity: null },
        {
          table_name: 'transactions',
          payment_method: 'Credit Card',
          shipping_address: '1 Main St',
          quantity: null,
        },
        {
          table_name: 'transactions',
          payment_method: 'PayPal',
          shipping_address: '2 High St',
          quantity: null,
        },
      ],
    );
  });

  it('rejects a new customer whose email belongs to another customer in production', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    await stage(test.db, {
      ...BASELINE,
      customers: `${BASELINE.customers}, ('CUST0004', 'Ada', 'Clone', ' Ada@Example.com', NULL, '2024-01-04', NULL, NULL, NULL, NULL)`,
    });

    const { summary } = await runEtl(test);

    assert.deepEqual(summary.tables.customers.reject_reasons, { duplicate_email: 1 });
    assert.deepEqual(
      await q(`SELECT count(*)::int AS n FROM production.customers WHERE customer_id = 'CUST0004'`),
      [{ n: 0 }],
    );
  });

  it('lets two customers swap emails within one load', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    await stage(test.db, {
      ...BASELINE,
      customers: BASELINE.customers
        .replace('ada@example.com', 'SWAP')
        .replace('alan@example.com', 'ada@example.com')
        .replace('SWAP', 'alan@example.com'),
    });

    const { summary } = await runEtl(test);

    assert.equal(summary.tables.customers.updated, 2);
    assert.deepEqual(
      await q(
        `SELECT customer_id, email FROM production.customers WHERE customer_id IN ('CUST0001', 'CUST0002') ORDER BY 1`,
      ),
      [
        { customer_id: 'CUST0001', email: 'alan@example.com' },
        { customer_id: 'CUST0002', email: 'ada@example.com' },
      ],
    );
  });

  it('reconciles totals to the sum of the items and recomputes line totals beyond a configured tolerance or below zero', async () => {
    await stage(test.db, {
      ...BASELINE,
      transactions: `
        ('TXN00001', 'CUST0001', '2024-02-01', '10:00:00', 'Credit Card', NULL, 999.00),
        ('TXN00002', 'CUST0002', '2024-02-02', '11:30:00', 'PayPal', NULL, 36.01)`,
      items: `
        ('ITEM00001', 'TXN00001', 'PROD0001', 2, 100.00, 10, 150.00),
        ('ITEM00002', 'TXN00001', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00003', 'TXN00002', 'PROD0002', 2, 20.00, 10, 36.01),
        ('ITEM00004', 'TXN00002', 'PROD0002', 1, 20.00, 100, -0.01)`,
    });

    const { summary } = await runEtl(test, { config: { line_total_tolerance: 0.01 } });

    assert.deepEqual(summary.reconciliation, {
      line_totals_corrected: 2,
      line_total_corrected_item_ids: ['ITEM00001', 'ITEM00004'],
      transaction_totals_corrected: 1,
      total_corrected_transaction_ids: ['TXN00001'],
      new_transactions_without_items: 0,
      items_added_to_existing_transactions: 0,
      totals_followed_lines: 0,
    });
    assert.deepEqual(
      await q(`SELECT item_id, line_total::text FROM production.transaction_items ORDER BY 1`),
      [
        { item_id: 'ITEM00001', line_total: '180.00' },
        { item_id: 'ITEM00002', line_total: '20.00' },
        { item_id: 'ITEM00003', line_total: '36.01' },
        { item_id: 'ITEM00004', line_total: '0.00' },
      ],
    );
    assert.deepEqual(
      await q(`SELECT transaction_id, total_amount::text FROM production.transactions ORDER BY 1`),
      [
        { transaction_id: 'TXN00001', total_amount: '200.00' },
        { transaction_id: 'TXN00002', total_amount: '36.01' },
      ],
    );
  });

  it('replaces a line total one cent off the formula by default, counts it and warns, and reconciles its transaction', async () => {
    await stage(test.db, {
      ...BASELINE,
      transactions: `
        ('TXN00001', 'CUST0001', '2024-02-01', '10:00:00', 'Credit Card', NULL, 220.01),
        ('TXN00002', 'CUST0002', '2024-02-02', '11:30:00', 'PayPal', NULL, 35.99)`,
      // 2 x 100.00 = 200.00 staged as 200.01; 2 x 20.00 less 10 % = 36.00 staged as 35.99.
      items: `
        ('ITEM00001', 'TXN00001', 'PROD0001', 2, 100.00, 0, 200.01),
        ('ITEM00002', 'TXN00001', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00003', 'TXN00002', 'PROD0002', 2, 20.00, 10, 35.99)`,
    });

    const { summary, result } = await runEtl(test);

    assert.equal(summary.settings.line_total_tolerance, 0);
    assert.deepEqual(summary.reconciliation, {
      line_totals_corrected: 2,
      line_total_corrected_item_ids: ['ITEM00001', 'ITEM00003'],
      transaction_totals_corrected: 2,
      total_corrected_transaction_ids: ['TXN00001', 'TXN00002'],
      new_transactions_without_items: 0,
      items_added_to_existing_transactions: 0,
      totals_followed_lines: 0,
    });
    assert.deepEqual(
      await q(`SELECT item_id, line_total::text FROM production.transaction_items ORDER BY 1`),
      [
        { item_id: 'ITEM00001', line_total: '200.00' },
        { item_id: 'ITEM00002', line_total: '20.00' },
        { item_id: 'ITEM00003', line_total: '36.00' },
      ],
    );
    assert.deepEqual(
      await q(`SELECT transaction_id, total_amount::text FROM production.transactions ORDER BY 1`),
      [
        { transaction_id: 'TXN00001', total_amount: '220.00' },
        { transaction_id: 'TXN00002', total_amount: '36.00' },
      ],
    );
    assert.deepEqual(result.warnings, [
      '2 line_total(s) differed from round(quantity * unit_price * (1 - discount_percentage / 100), 2) and were replaced by it (items ITEM00001, ITEM00003)',
      '2 total_amount(s) differed from the sum of their loaded lines and were replaced by it (transactions TXN00001, TXN00002)',
    ]);
  });

  it('rejects NaN, infinities and amounts of 10^10 or more in every numeric field, before the range rules they would slip through', async () => {
    await stage(test.db, {
      products: `${BASELINE.products},
        ('PROD0003', 'Nan Price', 'Misc', NULL, 'NaN', 5.00, NULL, 1, NULL),
        ('PROD0004', 'Infinite Cost', 'Misc', NULL, 10.00, 'Infinity', NULL, 1, NULL),
        ('PROD0005', 'Huge Price', 'Misc', NULL, 10000000000.00, 5.00, NULL, 1, NULL)`,
      customers: BASELINE.customers,
      transactions: `${BASELINE.transactions},
        ('TXN00003', 'CUST0003', '2024-02-03', NULL, 'Cash', NULL, '-Infinity')`,
      items: `${BASELINE.items},
        ('ITEM00004', 'TXN00002', 'PROD0002', 1, 'NaN', 0, 20.00),
        ('ITEM00005', 'TXN00002', 'PROD0002', 1, 20.00, 'NaN', 20.00),
        ('ITEM00006', 'TXN00002', 'PROD0002', 1, 20.00, 0, 'Infinity'),
        ('ITEM00007', 'TXN00002', 'PROD0002', 0, 'Infinity', 0, 0.00),
        ('ITEM00008', 'TXN00002', 'PROD0002', 1000, 10000000.00, 0, 1.00)`,
    });

    const run = await runEtl(test);

    const { tables } = run.summary;
    assert.deepEqual(tables.products.reject_reasons, { non_finite_number: 3 });
    assert.deepEqual(tables.transactions.reject_reasons, { non_finite_number: 1 });
    assert.deepEqual(tables.transaction_items.reject_reasons, { non_finite_number: 5 });
    assert.deepEqual(
      await q(
        `SELECT row_id, row_data->>'price' AS price, row_data->>'cost' AS cost FROM production.rejected_rows
         WHERE run_id = $1 AND table_name = 'products' ORDER BY row_id`,
        [run.runId],
      ),
      [
        { row_id: 'PROD0003', price: 'NaN', cost: '5.00' },
        { row_id: 'PROD0004', price: '10.00', cost: 'Infinity' },
        { row_id: 'PROD0005', price: '10000000000.00', cost: '5.00' },
      ],
    );
    assert.deepEqual(await q(`SELECT product_id FROM production.products ORDER BY 1`), [
      { product_id: 'PROD0001' },
      { product_id: 'PROD0002' },
    ]);
    assert.deepEqual(await q(`SELECT count(*)::int AS n FROM production.transaction_items`), [{ n: 3 }]);
  });

  it('rejects prices, discounts and totals with more than two decimals instead of rounding them, keeps 20.500, and replaces a line total of 20.004 by the formula, counted', async () => {
    await stage(test.db, {
      customers: BASELINE.customers,
      products: `${BASELINE.products},
        ('PROD0003', 'Odd Cent', 'Misc', NULL, 10.005, 5.00, NULL, 1, NULL),
        ('PROD0004', 'Odd Cost', 'Misc', NULL, 10.00, 4.999, NULL, 1, NULL)`,
      transactions: `${BASELINE.transactions},
        ('TXN00003', 'CUST0003', '2024-02-03', NULL, 'Cash', NULL, 20.001)`,
      items: `${BASELINE.items},
        ('ITEM00004', 'TXN00002', 'PROD0002', 1, 20.005, 0, 20.01),
        ('ITEM00005', 'TXN00002', 'PROD0002', 1, 20.00, 5.125, 18.98),
        ('ITEM00006', 'TXN00002', 'PROD0002', 1, 20.00, 0, 20.004),
        ('ITEM00007', 'TXN00002', 'PROD0002', 1, 20.500, 0, 20.50)`,
    });

    const run = await runEtl(test);

    const { tables } = run.summary;
    assert.deepEqual(tables.products.reject_reasons, { more_than_two_decimals: 2 });
    assert.deepEqual(tables.transactions.reject_reasons, { more_than_two_decimals: 1 });
    assert.deepEqual(tables.transaction_items.reject_reasons, { more_than_two_decimals: 2 });
    assert.deepEqual(
      await q(
        `SELECT item_id, unit_price::text, line_total::text FROM production.transaction_items
         WHERE item_id IN ('ITEM00006', 'ITEM00007') ORDER BY 1`,
      ),
      [
        { item_id: 'ITEM00006', unit_price: '20.00', line_total: '20.00' },
        { item_id: 'ITEM00007', unit_price: '20.50', line_total: '20.50' },
      ],
    );
    assert.equal(run.summary.reconciliation.line_totals_corrected, 1);
    assert.deepEqual(run.summary.reconciliation.line_total_corrected_item_ids, ['ITEM00006']);
  });

  it('rejects transaction and registration dates that are infinite, before 1900 or more than 366 days after the run date', async () => {
    await stage(test.db, {
      customers: `${BASELINE.customers},
        ('CUST0004', 'Ever', 'After', 'ever@example.com', NULL, 'infinity', NULL, NULL, NULL, NULL),
        ('CUST0005', 'Long', 'Ago', 'long@example.com', NULL, '1899-12-31', NULL, NULL, NULL, NULL)`,
      products: BASELINE.products,
      transactions: `${BASELINE.transactions},
        ('TXN00003', 'CUST0003', '-infinity', NULL, 'Cash', NULL, 20.00),
        ('TXN00004', 'CUST0003', '1000-01-01', NULL, 'Cash', NULL, 20.00),
        ('TXN00005', 'CUST0003', '99999-01-01', NULL, 'Cash', NULL, 20.00),
        ('TXN00006', 'CUST0003', '2026-03-03', NULL, 'Cash', NULL, 20.00),
        ('TXN00007', 'CUST0003', '2026-03-02', NULL, 'Cash', NULL, 20.00),
        ('TXN00008', 'CUST0003', '1900-01-01', NULL, 'Cash', NULL, 20.00)`,
      items: `${BASELINE.items},
        ('ITEM00004', 'TXN00003', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00005', 'TXN00007', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00006', 'TXN00008', 'PROD0002', 1, 20.00, 0, 20.00)`,
    });

    // Run date 2025-03-01: the latest business date is 2026-03-02.
    const run = await runEtl(test, { runDate: '2025-03-01' });

    const { tables } = run.summary;
    assert.deepEqual(tables.customers.reject_reasons, { implausible_date: 2 });
    assert.deepEqual(tables.transactions.reject_reasons, { implausible_date: 4 });
    // An item of a rejected transaction is an orphan.
    assert.deepEqual(tables.transaction_items.reject_reasons, { orphan_transaction: 1 });
    assert.deepEqual(
      await q(
        `SELECT row_id FROM production.rejected_rows WHERE run_id = $1 AND reason = 'implausible_date' ORDER BY row_id`,
        [run.runId],
      ),
      ['CUST0004', 'CUST0005', 'TXN00003', 'TXN00004', 'TXN00005', 'TXN00006'].map((row_id) => ({ row_id })),
    );
    assert.deepEqual(
      await q(
        `SELECT transaction_id, transaction_date::text AS d FROM production.transactions WHERE transaction_id >= 'TXN00003' ORDER BY 1`,
      ),
      [
        { transaction_id: 'TXN00007', d: '2026-03-02' },
        { transaction_id: 'TXN00008', d: '1900-01-01' },
      ],
    );
  });

  it('counts lines added to an already loaded transaction and brings its total to the sum of its lines', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    await stage(test.db, {
      ...BASELINE,
      transactions: `${BASELINE.transactions},
        ('TXN00003', 'CUST0003', '2024-02-03', '12:00:00', 'Cash', NULL, 5.00),
        ('TXN00004', 'CUST0003', '2024-02-04', '12:00:00', 'Cash', NULL, 7.00)`,
      items: `${BASELINE.items},
        ('ITEM00004', 'TXN00001', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00005', 'TXN00002', 'PROD0002', 1, 20.00, 0, 20.00),
        ('ITEM00006', 'TXN00002', 'PROD0001', 1, 100.00, 0, 100.00),
        ('ITEM00007', 'TXN00003', 'PROD0002', 1, 20.00, 0, 20.00)`,
    });

    const { summary } = await runEtl(test);

    assert.deepEqual(summary.reconciliation, {
      line_totals_corrected: 0,
      line_total_corrected_item_ids: [],
      transaction_totals_corrected: 1,
      total_corrected_transaction_ids: ['TXN00003'],
      new_transactions_without_items: 1,
      items_added_to_existing_transactions: 3,
      totals_followed_lines: 2,
    });
    assert.deepEqual(
      await q(`SELECT transaction_id, total_amount::text FROM production.transactions ORDER BY 1`),
      [
        { transaction_id: 'TXN00001', total_amount: '240.00' },
        { transaction_id: 'TXN00002', total_amount: '160.00' },
        { transaction_id: 'TXN00003', total_amount: '20.00' },
        { transaction_id: 'TXN00004', total_amount: '7.00' },
      ],
    );
  });

  it('never rewrites a loaded transaction and counts the staged change as ignored', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    await stage(test.db, {
      ...BASELINE,
      transactions: BASELINE.transactions.replace("'PayPal'", "'Debit Card'"),
    });

    const { summary } = await runEtl(test);

    assert.equal(summary.ignored_changed_facts, 1);
    assert.equal(summary.tables.transactions.ignored_changed_facts, 1);
    assert.deepEqual(
      await q(`SELECT payment_method FROM production.transactions WHERE transaction_id = 'TXN00002'`),
      [{ payment_method: 'PayPal' }],
    );
  });

  it('sets the fact foreign keys and indexes aside on a bulk load and leaves them present and validated', async () => {
    await stage(test.db, BASELINE);
    const catalog = () =>
      q(`SELECT c.conname AS name, c.convalidated AS valid, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c
         WHERE c.contype IN ('f', 'p') AND c.connamespace = 'production'::regnamespace
         UNION ALL
         SELECT i.indexname, x.indisvalid, i.indexdef FROM pg_indexes i JOIN pg_index x ON x.indexrelid = (i.schemaname || '.' || i.indexname)::regclass
         WHERE i.schemaname = 'production' AND i.tablename IN ('transactions', 'transaction_items')
         ORDER BY 1, 3`);
    const before = await catalog();

    const { summary } = await runEtl(test, { config: { bulk_load: { min_new_rows: 1 } } });

    assert.deepEqual(summary.load, {
      new_fact_rows: 5,
      bulk_load: true,
      unique_keys_rebuilt: ['transaction_items_pkey', 'transactions_pkey'],
      foreign_keys_revalidated: [
        'transaction_items_product_id_fkey',
        'transaction_items_transaction_id_fkey',
        'transactions_customer_id_fkey',
      ],
      indexes_rebuilt: [
        'transaction_items_created_at_idx',
        'transaction_items_product_id_idx',
        'transaction_items_transaction_id_idx',
        'transaction_items_updated_at_idx',
        'transactions_created_at_idx',
        'transactions_customer_id_idx',
        'transactions_transaction_date_idx',
        'transactions_updated_at_idx',
      ],
    });
    const after = await catalog();
    assert.deepEqual(after, before);
    assert.equal(after.length, 23);
    assert.ok(after.every((row) => row.valid === true));
    assert.deepEqual(await q(`SELECT count(*)::int AS n FROM production.transaction_items`), [{ n: 3 }]);
  });

  it('leaves a primary key in place on a bulk load when a table outside the facts references it', async () => {
    await test.db.pool.query(
      'CREATE TABLE public.refund (transaction_id text REFERENCES production.transactions)',
    );
    try {
      await stage(test.db, BASELINE);

      const { summary } = await runEtl(test, { config: { bulk_load: { min_new_rows: 1 } } });

      assert.deepEqual(summary.load.unique_keys_rebuilt, ['transaction_items_pkey']);
      assert.equal(summary.tables.transaction_items.inserted, 3);
    } finally {
      await test.db.pool.query('DROP TABLE public.refund');
    }
  });

  it('keeps the foreign keys in place when the batch is small next to the rows already loaded', async () => {
    await stage(test.db, BASELINE);
    await runEtl(test);
    await test.db.pool.query('ANALYZE production.transactions, production.transaction_items');
    await stage(test.db, {
      ...BASELINE,
      transactions: `${BASELINE.transactions}, ('TXN00003', 'CUST0003', '2024-02-03', NULL, 'PayPal', NULL, 20.00)`,
      items: `${BASELINE.items}, ('ITEM00004', 'TXN00003', 'PROD0002', 1, 20.00, 0, 20.00)`,
    });

    const { summary } = await runEtl(test, {
      config: { bulk_load: { min_new_rows: 1, min_share_of_existing: 0.5 } },
    });

    assert.deepEqual(summary.load, {
      new_fact_rows: 2,
      bulk_load: false,
      unique_keys_rebuilt: [],
      foreign_keys_revalidated: [],
      indexes_rebuilt: [],
    });
  });
});
