import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermanentError } from '@pipeline/kernel';
import { InputDatesError, judgeInputDates, type InputDates } from './input-dates.js';

const FILE = 'raw/2025-01-06/transactions.csv';

/** Sales dated `earliest..latest`, the newest on or before 2025-01-06 given, after `previous` was loaded. */
const dates = (over: Partial<InputDates>): InputDates => ({
  sales: 30,
  earliest: '2025-01-06',
  latest: '2025-01-06',
  newest: '2025-01-06',
  previous: '2025-01-04',
  ...over,
});

describe('the dates inside the files against the run date', () => {
  it("refuses the previous day's files run as the next date, naming the file, the dates and the run date, even when that day was never loaded", () => {
    // A 02:00 schedule's run for 2025-01-06 given the files of 2025-01-05, which never loaded.
    const refusal = judgeInputDates(
      dates({ earliest: '2025-01-05', latest: '2025-01-05', newest: '2025-01-05' }),
      '2025-01-06',
      0,
      FILE,
    );
    assert.ok(refusal instanceof InputDatesError && refusal instanceof PermanentError);
    assert.equal(
      refusal.message,
      'raw/2025-01-06/transactions.csv holds sales dated 2025-01-05..2025-01-05, none on the run date 2025-01-06 ' +
        '(quality.input_dates.late_days: 0): these are the files of an earlier date, not of 2025-01-06 ' +
        `(each date's files go in raw/<date>/; see the quality-checks README, "Input dates")`,
    );
    assert.equal(refusal.file, FILE);
  });

  it("refuses the next day's files run as the date before, even as the first load", () => {
    const refusal = judgeInputDates(
      dates({ earliest: '2025-01-07', latest: '2025-01-07', newest: null, previous: null }),
      '2025-01-06',
      0,
      FILE,
    );
    assert.match(
      refusal?.message ?? '',
      /holds sales dated 2025-01-07\.\.2025-01-07, none on or before the run date 2025-01-06: these are the files of a later date, not of 2025-01-06/,
    );
  });

  it("accepts late lines of the previous day beside the run date's sales", () => {
    assert.equal(judgeInputDates(dates({ earliest: '2025-01-05' }), '2025-01-06', 0, FILE), null);
  });

  it("leaves a stray sale dated after the run date, beside the run date's own, to transactions_date_not_future", () => {
    assert.equal(judgeInputDates(dates({ latest: '2025-01-09' }), '2025-01-06', 0, FILE), null);
  });

  it('accepts a full load: its history up to the run date, and as the first load a history that ends before it', () => {
    const history = { earliest: '2024-01-01', latest: '2024-12-31', newest: '2024-12-31' };
    assert.equal(judgeInputDates(dates({ ...history, previous: '2024-12-30' }), '2024-12-31', 0, FILE), null);
    // `pipeline run` on a fresh install: the generated history ends on data_generation.end_date.
    assert.equal(judgeInputDates(dates({ ...history, previous: null }), '2026-12-07', 0, FILE), null);
    assert.ok(judgeInputDates(dates({ ...history, previous: '2026-12-06' }), '2026-12-07', 0, FILE));
  });

  it('accepts a newest sale up to late_days before the run date, and no earlier', () => {
    const dayLate = dates({ earliest: '2025-01-05', latest: '2025-01-05', newest: '2025-01-05' });
    assert.equal(judgeInputDates(dayLate, '2025-01-06', 1, FILE), null);
    assert.match(
      judgeInputDates(dayLate, '2025-01-07', 1, FILE)?.message ?? '',
      /none from 2025-01-06 to the run date 2025-01-07 \(quality\.input_dates\.late_days: 1\)/,
    );
  });

  it('has nothing to compare when no staged sale has a date (the completeness check reports those)', () => {
    assert.equal(
      judgeInputDates(
        { sales: 0, earliest: null, latest: null, newest: null, previous: '2025-01-05' },
        '2025-01-06',
        0,
        FILE,
      ),
      null,
    );
  });
});
