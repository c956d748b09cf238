import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECKS } from './quality-checks.catalog.js';
import { qualityConfigSchema } from './quality-checks.config.js';
import {
  decideGate,
  dimensionScores,
  gradeOf,
  judgeCheck,
  overallScore,
  type CheckOutcome,
} from './quality-score.js';

const defaults = qualityConfigSchema.parse({});
const check = (name: string) => CHECKS.find((c) => c.name === name)!;

describe('quality score', () => {
  it('scores each dimension as the share of passing (row, check) pairs and weights them', () => {
    const outcomes: CheckOutcome[] = [
      // completeness: 10 + 20 pairs, 3 failing -> 90
      judgeCheck(check('customers_missing_values'), defaults, 10, 1),
      judgeCheck(check('products_missing_values'), defaults, 20, 2),
      // uniqueness: 50 pairs, 5 failing -> 90
      judgeCheck(check('customers_duplicate_id'), defaults, 50, 5),
      // referential: 40 pairs, 10 failing -> 75
      judgeCheck(check('transactions_orphan_customer'), defaults, 40, 10),
      // consistency: nothing failing -> 100
      judgeCheck(check('transactions_total_amount'), defaults, 40, 0),
      // ranges: nothing examined -> 100
    ];
    const scores = dimensionScores(outcomes);
    assert.deepEqual(scores, {
      completeness: 90,
      uniqueness: 90,
      referential: 75,
      consistency: 100,
      ranges: 100,
    });
    // (20*90 + 15*90 + 30*75 + 20*100 + 15*100) / 100 = (1800 + 1350 + 2250 + 2000 + 1500) / 100
    assert.equal(overallScore(scores, defaults.weights), 89);
    assert.equal(gradeOf(89), 'B');
    assert.equal(
      overallScore(scores, { completeness: 1, uniqueness: 0, referential: 1, consistency: 0, ranges: 0 }),
      82.5,
    );
  });

  it('rounds the overall score to two decimals', () => {
    const scores = {
      completeness: 100,
      uniqueness: 100,
      referential: 100,
      consistency: 100,
      ranges: (100 * 2) / 3,
    };
    // 100 - 15 * (100/3) / 100 = 95
    assert.equal(overallScore(scores, defaults.weights), 95);
    assert.equal(overallScore({ ...scores, ranges: 99 }, defaults.weights), 99.85);
  });

  it('grades at 90, 80, 70 and 60', () => {
    assert.deepEqual([100, 90, 89.99, 80, 79.99, 70, 60, 59.99, 0].map(gradeOf), [
      'A',
      'A',
      'B',
      'B',
      'C',
      'C',
      'D',
      'F',
      'F',
    ]);
  });

  it('passes a check whose failures stay within its threshold share', () => {
    const config = qualityConfigSchema.parse({ checks: { customers_duplicate_id: { threshold: 0.1 } } });
    assert.equal(judgeCheck(check('customers_duplicate_id'), config, 50, 5).passed, true);
    assert.equal(judgeCheck(check('customers_duplicate_id'), config, 50, 6).passed, false);
    assert.equal(judgeCheck(check('customers_duplicate_email'), config, 50, 1).passed, false);
    assert.equal(judgeCheck(check('customers_duplicate_email'), config, 0, 0).passed, true);
  });

  it('closes the gate for failing error checks and a low score, not for failing warnings', () => {
    const warn = judgeCheck(check('customers_email_format'), defaults, 10, 1);
    const error = judgeCheck(check('transactions_orphan_customer'), defaults, 10, 1);
    assert.deepEqual(decideGate([warn], 99, 95), { passed: true, reasons: [] });
    assert.deepEqual(decideGate([warn, error], 94.5, 95), {
      passed: false,
      reasons: [
        'transactions_orphan_customer failed 1 of 10 rows of staging.transactions (threshold 0)',
        'score 94.5 is below min_score 95',
      ],
    });
  });
});

describe('quality config', () => {
  it('defaults every key', () => {
    assert.deepEqual(defaults, {
      min_score: 95,
      tolerance: 0.01,
      work_mem_mb: 64,
      weights: { completeness: 20, uniqueness: 15, referential: 30, consistency: 20, ranges: 15 },
      plausible_dates: { earliest: '1970-01-01', days_after_run_date: 7 },
      input_dates: { late_days: 0 },
      checks: {},
    });
  });

  it('refuses a late_days that is not a whole number of days from 0 to 366, naming the key', () => {
    const issues = (value: unknown) => {
      const result = qualityConfigSchema.safeParse({ input_dates: value });
      return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
    };
    assert.deepEqual(issues({ late_days: -1 }), ['input_dates.late_days']);
    assert.deepEqual(issues({ late_days: 0.5 }), ['input_dates.late_days']);
    assert.deepEqual(issues({ late_days: 367 }), ['input_dates.late_days']);
    assert.deepEqual(issues({ late: 1 }), ['input_dates']);
    assert.deepEqual(issues({ late_days: 1 }), []);
  });

  it('refuses a plausible window reaching past the limits production-etl and the warehouse hold dates to, naming the key', () => {
    const issues = (value: unknown) => {
      const result = qualityConfigSchema.safeParse({ plausible_dates: value });
      return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(issues({ earliest: '1899-12-31' }), [
      'plausible_dates.earliest: must not be before 1900-01-01: production-etl and the warehouse refuse earlier dates',
    ]);
    assert.deepEqual(issues({ days_after_run_date: 367 }), [
      'plausible_dates.days_after_run_date: must be at most 366: production-etl and the warehouse refuse later dates',
    ]);
    assert.deepEqual(issues({ earliest: '2024-02-30' }), ['plausible_dates.earliest: not a calendar date']);
    assert.ok(
      issues({ earliest: 'epoch' }).includes('plausible_dates.earliest: expected a date as YYYY-MM-DD'),
    );
    assert.deepEqual(issues({ days_after_run_date: 1.5 }).length, 1);
    assert.deepEqual(issues({ latest: '2030-01-01' }).length, 1);
    assert.deepEqual(issues({ earliest: '1900-01-01', days_after_run_date: 366 }), []);
  });

  it('rejects an unknown check name, an unknown key and weights that are all 0', () => {
    assert.equal(
      qualityConfigSchema.safeParse({ checks: { no_such_check: { severity: 'warn' } } }).success,
      false,
    );
    assert.equal(
      qualityConfigSchema.safeParse({ checks: { customers_email_format: { severity: 'fatal' } } }).success,
      false,
    );
    assert.equal(qualityConfigSchema.safeParse({ minscore: 90 }).success, false);
    const zero = { completeness: 0, uniqueness: 0, referential: 0, consistency: 0, ranges: 0 };
    assert.equal(qualityConfigSchema.safeParse({ weights: zero }).success, false);
  });

  it('has one SQL file per check, each named after its check, beside the fast pass profile_*.sql and the input dates rule', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(new URL('./sql/', import.meta.url))).filter(
      (f) => !f.startsWith('profile_') && f !== 'input-dates.sql',
    );
    assert.deepEqual(files.sort(), CHECKS.map((c) => `${c.name}.sql`).sort());
  });
});
