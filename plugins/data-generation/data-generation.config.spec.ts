import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stageSettings } from '@pipeline/kernel/testing';
import type { DataGenerationSettings } from './data-generation.config.js';
import { DataGenerationStage } from './data-generation.stage.js';

const parse = (section: unknown) =>
  stageSettings<DataGenerationSettings>(DataGenerationStage, { data_generation: section });

describe('data_generation config', () => {
  it('defaults to the original generator: 1,000 customers, 500 products, 10,000 transactions of 1 to 5 items in 2024', () => {
    const settings = parse(undefined);
    assert.equal(settings.seed, 42);
    assert.equal(settings.mode, 'auto');
    assert.equal(settings.customers, 1_000);
    assert.equal(settings.products, 500);
    assert.equal(settings.transactions, 10_000);
    assert.deepEqual(settings.items_per_transaction, { min: 1, max: 5 });
    assert.equal(settings.start_date, '2024-01-01');
    assert.equal(settings.end_date, '2024-12-31');
    assert.deepEqual(settings.discounts, [0, 5, 10, 15]);
    assert.deepEqual(settings.payment_methods, [
      'Credit Card',
      'Debit Card',
      'UPI',
      'Cash on Delivery',
      'Net Banking',
    ]);
    assert.deepEqual(Object.keys(settings.categories), [
      'Electronics',
      'Clothing',
      'Home & Kitchen',
      'Books',
      'Sports',
      'Beauty',
    ]);
    assert.deepEqual(settings.daily, {
      transactions: 300,
      change_share: 0.02,
      disappear_share: 0.005,
      return_share: 0.1,
    });
    assert.equal(settings.workers, 'auto');
  });

  it('takes workers as auto or a whole number from 0 to 16, naming the key otherwise', () => {
    assert.equal(parse({ workers: 0 }).workers, 0);
    assert.equal(parse({ workers: 16 }).workers, 16);
    for (const workers of [-1, 17, 1.5, 'many'])
      assert.throws(
        () => parse({ workers }),
        /data_generation\.workers: expected auto or a whole number of worker threads from 0 to 16/,
      );
  });

  it('fills the unspecified keys of a nested section with their defaults', () => {
    const settings = parse({ items_per_transaction: { max: 8 }, daily: { transactions: 50 } });
    assert.deepEqual(settings.items_per_transaction, { min: 1, max: 8 });
    assert.equal(settings.daily.transactions, 50);
    assert.equal(settings.daily.change_share, 0.02);
  });

  it('rejects an unknown key and names it', () => {
    assert.throws(() => parse({ customer: 10 }), /data_generation\.customer: unknown key/);
    assert.throws(() => parse({ daily: { share: 1 } }), /data_generation\.daily\.share: unknown key/);
  });

  it('rejects min above max, an end before the start and an inverted price range, naming the key', () => {
    assert.throws(
      () => parse({ items_per_transaction: { min: 4, max: 2 } }),
      /data_generation\.items_per_transaction\.max: must be >= items_per_transaction\.min \(4\), got 2/,
    );
    assert.throws(
      () => parse({ start_date: '2024-06-01', end_date: '2024-05-31' }),
      /data_generation\.end_date: must not be before start_date \(2024-06-01\), got 2024-05-31/,
    );
    assert.throws(
      () => parse({ categories: { Toys: { min_price: 30, max_price: 20, sub_categories: ['Puzzles'] } } }),
      /data_generation\.categories\.Toys\.max_price: must be >= min_price \(30\), got 20/,
    );
  });

  it('rejects impossible dates, discounts with more than two decimals and repeated payment methods', () => {
    assert.throws(
      () => parse({ start_date: '2024-02-30' }),
      /data_generation\.start_date: not a calendar date/,
    );
    assert.throws(
      () => parse({ discounts: [0, 2.555] }),
      /data_generation\.discounts\.1: a percentage with at most two decimals/,
    );
    assert.throws(
      () => parse({ payment_methods: ['UPI', 'UPI'] }),
      /data_generation\.payment_methods: "UPI" is listed twice/,
    );
    assert.throws(() => parse({ mode: 'weekly' }), /data_generation\.mode/);
  });
});
