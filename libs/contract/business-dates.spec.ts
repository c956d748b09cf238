import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDays, latestBusinessDate, LAST_BUSINESS_DATE } from './business-dates.js';

describe('business date limits', () => {
  it('lets a run accept dates up to a year and a day after its run date', () => {
    assert.equal(latestBusinessDate('2025-01-01'), '2026-01-02');
    assert.equal(latestBusinessDate('2024-02-29'), '2025-03-01');
  });

  it('counts days in UTC across month and year ends', () => {
    assert.equal(addDays('2024-12-31', 1), '2025-01-01');
    assert.equal(addDays('2025-03-30', 7), '2025-04-06');
    assert.equal(addDays('2025-01-08', 0), '2025-01-08');
  });

  it('never goes past the last day a dimension version can cover', () => {
    assert.equal(latestBusinessDate('9999-06-01'), LAST_BUSINESS_DATE);
    assert.equal(addDays('9999-12-29', 7), '9999-12-30');
  });
});
