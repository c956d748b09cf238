/**
 * The loyalty-points stage on the kernel's test kit: a fresh database (embedded, or the server
 * TEST_DATABASE_URL names) migrated by the real upstream plugins and this one.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createTestBed, type TestBed } from '@pipeline/kernel/testing';
// The stages it depends on, installed beside it as beside the daemon: the kit migrates their
// schemas (the warehouse tables this stage reads) and checks the dependency is there. Only this
// test imports them; the plugin itself reads the warehouse through SQL, by its contract.
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import productionEtl from '@pipeline/plugin-production-etl';
import qualityChecks from '@pipeline/plugin-quality-checks';
import warehouse from '@pipeline/plugin-warehouse';
import plugin from './index.js';

describe('loyalty-points', () => {
  let bed: TestBed;
  const q = (sql: string) => bed.db.pool.query(sql);
  const points = async () =>
    (
      await q(
        'SELECT customer_id, business_date::text, spend::text, points FROM loyalty.customer_points ORDER BY 2, 1',
      )
    ).rows;
  const gauge = async () => {
    const line = (await bed.metrics.render())
      .split('\n')
      .find((l) => l.startsWith('pipeline_loyalty_points_awarded '));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };

  before(async () => {
    bed = await createTestBed({
      plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse, plugin],
    });
    await q(`
      INSERT INTO warehouse.dim_date (date_key, full_date, year, quarter, month, day, month_name, day_name, week_of_year, is_weekend)
        VALUES (20240301, '2024-03-01', 2024, 1, 3, 1, 'March', 'Friday', 9, false),
               (20240302, '2024-03-02', 2024, 1, 3, 2, 'March', 'Saturday', 9, true),
               (20240303, '2024-03-03', 2024, 1, 3, 3, 'March', 'Sunday', 9, true);
      INSERT INTO warehouse.dim_payment_method (payment_method_key, payment_method_name, payment_type) VALUES (1, 'UPI', 'Online');
      -- C1 in two SCD2 versions: points follow the customer, not the version.
      INSERT INTO warehouse.dim_customers (customer_key, customer_id, full_name, effective_date, end_date, is_current)
        VALUES (1, 'C1', 'Jane Doe', '1900-01-01', '2024-03-02', false),
               (2, 'C1', 'Jane Roe', '2024-03-02', '9999-12-31', true),
               (3, 'C2', 'John Doe', '1900-01-01', '9999-12-31', true);
      INSERT INTO warehouse.dim_products (product_key, product_id, product_name, effective_date) VALUES (1, 'P1', 'Book', '1900-01-01');`);
  });
  after(async () => bed?.dispose());
  beforeEach(async () => {
    await q('DELETE FROM warehouse.fact_sales');
    await q(`
      INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
                                        quantity, unit_price, discount_amount, discount_percentage, line_total, profit)
        VALUES ('I1', 20240301, 1, 1, 1, 'T1', 1, 10.10, 1.51, 15, 8.59, 2.59),
               ('I2', 20240301, 1, 1, 1, 'T1', 2, 100.00, 20.00, 10, 180.00, 60.00),
               ('I3', 20240302, 2, 1, 1, 'T2', 1, 25.00, 0.00, 0, 25.00, 5.00),
               ('I4', 20240302, 3, 1, 1, 'T3', 1, 9.99, 0.00, 0, 9.99, 2.00),
               ('I5', 20240303, 3, 1, 1, 'T4', 1, 50.00, 0.00, 0, 50.00, 10.00);`);
  });

  it('awards one point per whole 10 paid, per customer and business date, up to the run date', async () => {
    const outcome = await bed.runStage('loyalty-points', { runDate: '2024-03-02' });
    assert.equal(outcome.status, 'succeeded', outcome.error ?? '');
    assert.deepEqual(await points(), [
      { customer_id: 'C1', business_date: '2024-03-01', spend: '188.59', points: 18 },
      { customer_id: 'C1', business_date: '2024-03-02', spend: '25.00', points: 2 },
      { customer_id: 'C2', business_date: '2024-03-02', spend: '9.99', points: 0 },
    ]);
    assert.equal(await gauge(), 20);
  });

  it('leaves the same table when run again, and follows facts the warehouse changed', async () => {
    for (let i = 0; i < 2; i++)
      assert.equal((await bed.runStage('loyalty-points', { runDate: '2024-03-03' })).status, 'succeeded');
    const once = await points();
    assert.equal(once.length, 4);
    assert.equal(await gauge(), 25);

    // A redone date: the warehouse removed I2 and moved I5 to the 2nd.
    await q(`DELETE FROM warehouse.fact_sales WHERE item_id = 'I2';
             UPDATE warehouse.fact_sales SET date_key = 20240302 WHERE item_id = 'I5'`);
    assert.equal((await bed.runStage('loyalty-points', { runDate: '2024-03-03' })).status, 'succeeded');
    assert.deepEqual(await points(), [
      { customer_id: 'C1', business_date: '2024-03-01', spend: '8.59', points: 0 },
      { customer_id: 'C1', business_date: '2024-03-02', spend: '25.00', points: 2 },
      { customer_id: 'C2', business_date: '2024-03-02', spend: '59.99', points: 5 },
    ]);
    assert.equal(await gauge(), 7);
  });
});
