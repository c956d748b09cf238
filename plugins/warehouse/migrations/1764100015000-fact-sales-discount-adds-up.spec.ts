import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
// The statement triggers the analytics plugin puts on fact_sales are part of what this migration
// sets off: its summaries must recompute too.
import analytics from '@pipeline/plugin-analytics';
import { warehouseBed } from '../warehouse.fixtures.js';

describe(
  'migration 0015 (warehouse plugin): discount_amount of facts loaded earlier',
  { skip: await postgresUnavailable() },
  () => {
    let test: TestBed;
    before(async () => {
      test = await warehouseBed({ database: 'postgres', downstream: [analytics] });
    });
    after(async () => test?.dispose());

    it('recomputes discount_amount as quantity * unit_price - line_total, and makes the aggregates and summaries recompute', async () => {
      const q = (sql: string) => test.db.pool.query(sql);
      await q(`
      INSERT INTO warehouse.dim_date (date_key, full_date, year, quarter, month, day, month_name, day_name, week_of_year, is_weekend)
        VALUES (20240301, '2024-03-01', 2024, 1, 3, 1, 'March', 'Friday', 9, false);
      INSERT INTO warehouse.dim_payment_method (payment_method_key, payment_method_name, payment_type) VALUES (1, 'UPI', 'Online');
      INSERT INTO warehouse.dim_customers (customer_key, customer_id, full_name, effective_date) VALUES (1, 'C1', 'Jane Doe', '1900-01-01');
      INSERT INTO warehouse.dim_products (product_key, product_id, product_name, effective_date) VALUES (1, 'P1', 'Book', '1900-01-01');
      -- As loaded before: 10.10 less 15 % rounded apart, 8.59 + 1.52 = 10.11; and a line that added up.
      INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id,
                                        quantity, unit_price, discount_amount, discount_percentage, line_total, profit)
        VALUES ('I1', 20240301, 1, 1, 1, 'T1', 1, 10.10, 1.52, 15, 8.59, 2.59),
               ('I2', 20240301, 1, 1, 1, 'T1', 2, 100.00, 20.00, 10, 180.00, 60.00);
      INSERT INTO warehouse.product_performance_sums VALUES (1, 2, 3, 188.59, 62.59, 25);
      INSERT INTO analytics.summary_state (last_sales_key, stale) VALUES (2, false);
      DELETE FROM pipeline.migrations_pipeline_plugin_warehouse WHERE name = 'FactSalesDiscountAddsUp1764100015000';`);

      assert.deepEqual(await test.migrate(), ['FactSalesDiscountAddsUp1764100015000']);

      const facts = await q(
        `SELECT item_id, discount_amount::text, (line_total + discount_amount = quantity * unit_price) AS adds_up
       FROM warehouse.fact_sales ORDER BY item_id`,
      );
      assert.deepEqual(facts.rows, [
        { item_id: 'I1', discount_amount: '1.51', adds_up: true },
        { item_id: 'I2', discount_amount: '20.00', adds_up: true },
      ]);
      const state = await q(
        `SELECT (SELECT stale FROM analytics.summary_state) AS stale,
              (SELECT count(*)::int FROM warehouse.product_performance_sums) AS sums`,
      );
      assert.deepEqual(state.rows, [{ stale: true, sums: 0 }]);
    });
  },
);
