import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  evaluateDatabase,
  evaluateFreshness,
  evaluateVolume,
  summarize,
  type CheckResult,
} from './health-report.js';

const reading = (count: number, mean: number, stddev: number, historyDays = 30) => ({
  runDateTransactions: count,
  historyDays,
  mean,
  stddev,
  min: null,
  max: null,
});

describe('health verdicts', () => {
  it('treats a count on the edge of mean ± 3 sd as normal and one past it as an anomaly', () => {
    const volume = (count: number) =>
      evaluateVolume({ runDate: '2025-06-30', reading: reading(count, 100, 2), sigma: 3, minHistoryDays: 7 })
        .state;
    assert.deepEqual(
      [volume(94), volume(106), volume(93), volume(107)],
      ['normal', 'normal', 'drop', 'spike'],
    );
  });

  it('flags any change from a perfectly flat baseline', () => {
    const result = evaluateVolume({
      runDate: '2025-06-30',
      reading: reading(101, 100, 0),
      sigma: 3,
      minHistoryDays: 7,
    });
    assert.equal(result.state, 'spike');
    assert.equal(result.status, 'warning');
  });

  it('needs min_history_days of baseline before it gives a verdict', () => {
    const result = evaluateVolume({
      runDate: '2025-06-30',
      reading: reading(1000, 100, 1, 6),
      sigma: 3,
      minHistoryDays: 7,
    });
    assert.deepEqual([result.state, result.status, result.alerts], ['insufficient_history', 'ok', []]);
  });

  it('rates each layer against its own thresholds and never reports a negative lag', () => {
    const now = Date.parse('2025-06-30T12:00:00Z');
    const result = evaluateFreshness({
      newest: {
        staging: new Date(now + 5_000),
        production: new Date(now - 2 * 3_600_000),
        warehouse: new Date(now - 2 * 3_600_000),
      },
      nowMs: now,
      thresholds: {
        staging: { warning_hours: 1, critical_hours: 2 },
        production: { warning_hours: 1, critical_hours: 3 },
        // Exactly at the threshold is not above it.
        warehouse: { warning_hours: 2, critical_hours: 3 },
      },
    });
    assert.deepEqual(
      Object.values(result.layers).map((l) => [l.lag_seconds, l.status]),
      [
        [0, 'ok'],
        [7200, 'warning'],
        [7200, 'ok'],
      ],
    );
  });

  it('reports connection usage only when the server lists its connections', () => {
    const limits = { max_response_ms: 100, max_connection_usage_pct: 80 };
    const crowded = evaluateDatabase(
      { responseMs: 5, connections: { client: 81, active: 3, max: 100 } },
      limits,
    );
    assert.deepEqual([crowded.status, crowded.connection_usage_pct], ['warning', 81]);
    const embedded = evaluateDatabase({ responseMs: 150, connections: null }, limits);
    assert.deepEqual(
      [embedded.status, embedded.connection_usage_pct, embedded.alerts.length],
      ['warning', null, 1],
    );
  });

  it('scores checks equally: full when ok, half when warning, none when critical', () => {
    const check = (status: CheckResult['status']): CheckResult => ({ status, alerts: [] });
    assert.deepEqual(summarize({ a: check('ok'), b: check('ok'), c: check('ok'), d: check('ok') }), {
      status: 'healthy',
      health_score: 100,
      alerts: [],
    });
    assert.equal(
      summarize({ a: check('ok'), b: check('warning'), c: check('ok'), d: check('ok') }).health_score,
      88,
    );
    assert.deepEqual(
      summarize({ a: check('critical'), b: check('warning'), c: check('ok'), d: check('ok') }),
      { status: 'critical', health_score: 63, alerts: [] },
    );
  });
});
