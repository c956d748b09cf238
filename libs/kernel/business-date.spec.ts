import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusedRunDate, runDateRefusal } from './business-date.js';

describe('the business dates a run may have', () => {
  const window = { earliest: '2000-01-01', max_days_ahead: 1 };

  it('accepts dates from the earliest to a day after today', () => {
    for (const date of ['2000-01-01', '2024-02-29', '2026-03-01', '2026-03-02'])
      assert.equal(runDateRefusal(date, window, '2026-03-01'), null, date);
  });

  it('refuses a date at the end of time, naming the window and its key', () => {
    assert.equal(
      runDateRefusal('9999-12-30', window, '2026-03-01'),
      'run date 9999-12-30 is outside the accepted window 2000-01-01 .. 2026-03-02 (today 2026-03-01 + 1 days; pipeline.run_date_window)',
    );
  });

  it('refuses a date two days ahead and one before the earliest', () => {
    assert.match(runDateRefusal('2026-03-03', window, '2026-03-01')!, /outside the accepted window/);
    assert.match(runDateRefusal('1999-12-31', window, '2026-03-01')!, /outside the accepted window/);
  });

  it('refuses words and impossible dates as not being dates', () => {
    for (const word of ['today', 'epoch', 'now', 'infinity', '2025-02-30', '+2025-01-01', ''])
      assert.match(runDateRefusal(word, window, '2026-03-01')!, /is not a date \(YYYY-MM-DD\)/, word);
  });

  it("counts today in the scheduler's time zone", () => {
    const config = {
      pipeline: { run_date_window: { earliest: '2000-01-01', max_days_ahead: 0 } },
      scheduler: { timezone: 'Pacific/Kiritimati' },
    } as Parameters<typeof refusedRunDate>[1];
    // 20:00 UTC on 1 March is already 2 March at UTC+14.
    const at = new Date('2026-03-01T20:00:00Z');
    assert.equal(refusedRunDate('2026-03-02', config, at), null);
    assert.match(refusedRunDate('2026-03-03', config, at)!, /outside/);
  });
});
