import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvField, formatCents, formatId, formatPercent, lineTotalCents } from './csv-format.js';

describe('csv-format', () => {
  it('quotes a text field only when it holds a comma, a quote or a line break', () => {
    assert.equal(csvField('Home & Kitchen'), 'Home & Kitchen');
    assert.equal(csvField('Schmidt, Krajcik'), '"Schmidt, Krajcik"');
    assert.equal(csvField('the "best" mouse'), '"the ""best"" mouse"');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
  });

  it('pads ids to the minimum width and lets them grow wider when the number needs it', () => {
    assert.equal(formatId('CUST', 1, 4), 'CUST0001');
    assert.equal(formatId('TXN', 10_000, 5), 'TXN10000');
    assert.equal(formatId('TXN', 123_456, 5), 'TXN123456');
    assert.equal(formatId('SUP', 7, 3), 'SUP007');
  });

  it('prints integer cents with two decimals', () => {
    assert.equal(formatCents(0), '0.00');
    assert.equal(formatCents(5), '0.05');
    assert.equal(formatCents(1230), '12.30');
    assert.equal(formatCents(123_456_789), '1234567.89');
  });

  it('prints discounts as short decimals', () => {
    assert.deepEqual([0, 500, 1250, 3333, 1005].map(formatPercent), ['0', '5', '12.5', '33.33', '10.05']);
  });

  it('rounds line totals half away from zero on the exact value, like PostgreSQL NUMERIC', () => {
    // 1 x 0.05 x 0.5 = 0.025 exactly: NUMERIC rounds to 0.03 (a binary double would give 0.02).
    assert.equal(lineTotalCents(1, 5, 5000), 3);
    // 1 x 0.01 x 0.5 = 0.005 -> 0.01
    assert.equal(lineTotalCents(1, 1, 5000), 1);
    // 3 x 19.99 x 0.85 = 50.9745 -> 50.97
    assert.equal(lineTotalCents(3, 1999, 1500), 5097);
    // 1 x 10.05 x 0.95 = 9.5475 -> 9.55
    assert.equal(lineTotalCents(1, 1005, 500), 955);
    // 2 x 0.15 x 0.875 = 0.2625 -> 0.26
    assert.equal(lineTotalCents(2, 15, 1250), 26);
    assert.equal(lineTotalCents(5, 200_000, 0), 1_000_000);
  });

  it('stays exact at the largest price and quantity the config allows', () => {
    // 1000 x 999,999.99 x (1 - 0.0001) = 999,899,990.000999 -> 999,899,990.00
    assert.equal(lineTotalCents(1000, 99_999_999, 1), 99_989_999_000);
    // 999 x 999,999.99 x 0.5 = 499,499,995.005 -> .01 up
    assert.equal(lineTotalCents(999, 99_999_999, 5000), 49_949_999_501);
  });
});
