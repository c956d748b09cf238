import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { freshPostgres, needsPostgres, type TestDatabase } from '../../test/support/databases.js';
import { BASELINE, resetTables, runEtl, stage } from './production-etl.fixtures.js';

describe('production-etl on PostgreSQL', { skip: needsPostgres }, () => {
  let test: TestDatabase;
  const q = async <R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> =>
    (await test.db.pool.query<R>(sql, params)).rows;

  before(async () => {
    test = await freshPostgres();
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

    const { summary } = await runEtl(test.db);

    assert.deepEqual(
      await q('SELECT customer_id, first_name, last_name, email, phone, city, state, country, age_group FROM production.customers ORDER BY customer_id'),
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

  it('takes the price bands from config', async () => {
    await stage(test.db, { products: `('PROD0001', 'Desk', 'Furniture', NULL, 200.00, 150.00, NULL, 1, NULL)` });
    await runEtl(test.db, { config: { price_category: { budget_max: 500, mid_max: 1000 } } });
    assert.deepEqual(await q('SELECT price_category FROM production.products'), [{ price_category: 'Budget' }]);
  });
});
