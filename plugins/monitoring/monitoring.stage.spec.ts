import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { stageOptionsOf, type StageOutcome } from '@pipeline/kernel';
import {
  createTestBed,
  postgresUnavailable,
  unreachableDatabase,
  type Database,
  type TestBed,
} from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import productionEtl from '@pipeline/plugin-production-etl';
import qualityChecks from '@pipeline/plugin-quality-checks';
import analytics from '@pipeline/plugin-analytics';
import warehouse from '@pipeline/plugin-warehouse';
import monitoring from './index.js';
import type { Alert } from './health-report.js';
import { freshnessGauge, qualityScoreGauge, volumeAnomalyGauge } from './monitoring.metrics.js';
import type { MonitoringSettings } from './monitoring.config.js';
import { MonitoringStage } from './monitoring.stage.js';

const RUN_DATE = '2025-06-30';
const stage = new MonitoringStage();
const options = stageOptionsOf(MonitoringStage)!;
// The test server is shared: other databases' connections and a busy machine must not make
// the healthy case flaky, so these two limits are opened wide except where a test needs them.
const CONFIG = { monitoring: { database: { max_connection_usage_pct: 100, max_response_ms: 10_000 } } };

/*
 * Every layer fresh; 30 days of history with 99, 100, 101, 102, 98 transactions repeating
 * (mean 100, sample standard deviation sqrt(60/29) = 1.4384, normal band 95.68..104.32) and
 * 100 on the run date; a run that succeeded an hour ago.
 */
const HEALTHY = `
TRUNCATE staging.customers, staging.products, staging.transactions, staging.transaction_items,
         production.transaction_items, production.transactions, production.products, production.customers,
         warehouse.fact_sales, warehouse.dim_customers, warehouse.dim_products, warehouse.dim_payment_method,
         warehouse.dim_date, pipeline.runs, production.business_dates, warehouse.load_state CASCADE;
INSERT INTO staging.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount)
  VALUES ('R-1', 'C1', DATE '${RUN_DATE}', 'UPI', 10);
INSERT INTO production.customers (customer_id, first_name, last_name, email, registration_date)
  VALUES ('C1', 'Ann', 'Lee', 'ann@example.com', '2024-01-01');
INSERT INTO production.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount, business_date)
  SELECT format('H%s-%s', i, n), 'C1', DATE '${RUN_DATE}' - i, 'UPI', 10, DATE '${RUN_DATE}' - i
  FROM generate_series(1, 30) i, generate_series(1, 100 + i % 5 - 2) n;
INSERT INTO production.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount, business_date)
  SELECT format('R-%s', n), 'C1', DATE '${RUN_DATE}', 'UPI', 10, DATE '${RUN_DATE}' FROM generate_series(1, 100) n;
INSERT INTO warehouse.dim_date VALUES (20250630, DATE '${RUN_DATE}', 2025, 2, 6, 30, 'June', 'Monday', 27, false);
INSERT INTO warehouse.dim_payment_method (payment_method_key, payment_method_name, payment_type) VALUES (1, 'UPI', 'Online');
INSERT INTO warehouse.dim_customers (customer_key, customer_id, full_name, effective_date) VALUES (1, 'C1', 'Ann Lee', '2024-01-01');
INSERT INTO warehouse.dim_products (product_key, product_id, product_name, effective_date) VALUES (1, 'P1', 'Pen', '2024-01-01');
INSERT INTO warehouse.fact_sales (item_id, date_key, customer_key, product_key, payment_method_key, transaction_id, quantity, unit_price, discount_amount, line_total, profit, discount_percentage)
  VALUES ('I1', 20250630, 1, 1, 1, 'R-1', 1, 10, 0, 10, 5, 0);
INSERT INTO production.business_dates (business_date) VALUES (DATE '${RUN_DATE}');
INSERT INTO warehouse.load_state (loaded_through, as_of_date) VALUES (now(), DATE '${RUN_DATE}');
INSERT INTO pipeline.runs (id, trigger, run_date, status, owner, code_version, config_hash, started_at, finished_at)
  VALUES ('00000000-0000-4000-8000-000000000001', 'schedule', '2025-06-29', 'succeeded', 'test', 'v1', 'h', now() - interval '2 hours', now() - interval '1 hour');
`;

interface Report {
  status: string;
  health_score: number;
  alerts: Alert[];
  checks: Record<string, Record<string, unknown>>;
}

const outcome = (
  stage: string,
  status: StageOutcome['status'],
  error: string | null = null,
  details?: Record<string, unknown>,
): StageOutcome => ({
  stage,
  status,
  attempts: status === 'skipped' ? 0 : status === 'failed' ? 3 : 1,
  durationMs: status === 'skipped' ? null : 10,
  error,
  // What the quality gate hands on: its score as the `quality-score` output, beside its details.
  result: details ? { details, outputs: { 'quality-score': details } } : null,
});

const gauge = async (
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> },
  labels: Record<string, string> = {},
) =>
  (await metric.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;

describe('monitoring stage', { skip: await postgresUnavailable() }, () => {
  let test: TestBed;

  before(async () => {
    // It watches the whole pipeline: every layer's tables, quality's report, analytics' folder.
    test = await createTestBed({
      plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse, analytics, monitoring],
      database: 'postgres',
    });
  });
  after(async () => {
    await test?.dispose();
  });
  beforeEach(async () => {
    await test.db.pool.query(HEALTHY);
  });

  const run = async (
    setup: {
      earlierStages?: StageOutcome[];
      qualityScore?: number | null;
      config?: Record<string, unknown>;
      db?: Database;
    } = {},
  ) => {
    // Each run's gauges start unset, so that a test reads what this run set.
    test.resetMetrics();
    const ctx = test.context<MonitoringSettings>(options.name, {
      config: setup.config ?? CONFIG,
      runDate: RUN_DATE,
      earlierStages: setup.earlierStages ?? [],
      ...(setup.db ? { db: setup.db } : {}),
    });
    // The gauges monitoring owns, as its plugin declares them.
    const metrics = {
      volumeAnomaly: ctx.metrics.get(volumeAnomalyGauge),
      qualityScore: ctx.metrics.get(qualityScoreGauge),
      freshness: ctx.metrics.get(freshnessGauge),
    };
    // The bed's data folder outlives a run: quality's report is there only when a test puts it.
    const qualityReport = join(ctx.paths.root, 'quality', 'data_quality_report.json');
    if (setup.qualityScore !== null) {
      // The quality gate's folder: a run makes only the folders of the stages it runs.
      await mkdir(dirname(qualityReport), { recursive: true });
      await writeFile(
        qualityReport,
        JSON.stringify({ overall_score: setup.qualityScore ?? 98.5, grade: 'A' }),
      );
    } else await rm(qualityReport, { force: true });
    const result = await stage.run(ctx);
    const report = JSON.parse(
      await readFile(join(ctx.paths.own, 'monitoring_report.json'), 'utf8'),
    ) as Report;
    return { ctx, result, report, metrics };
  };

  it('reports healthy with no alerts and a full score when every check passes', async () => {
    const { ctx, result, report, metrics } = await run();
    assert.deepEqual(report.alerts, []);
    assert.equal(report.status, 'healthy');
    assert.equal(report.health_score, 100);
    assert.deepEqual(result.details, { status: 'healthy', health_score: 100, alerts: [] });
    assert.deepEqual(result.files, ['processed/monitoring_report.json']);
    assert.deepEqual(await readdir(ctx.paths.own), ['monitoring_report.json']);
    assert.deepEqual(Object.keys(report.checks), [
      'last_success',
      'run_stages',
      'freshness',
      'volume',
      'quality',
      'database',
    ]);
    const volume = report.checks.volume!;
    assert.deepEqual(
      [
        volume.state,
        volume.run_date_transactions,
        volume.history_days,
        volume.mean,
        volume.stddev,
        volume.lower_bound,
        volume.upper_bound,
      ],
      ['normal', 100, 30, 100, 1.4384, 95.68, 104.32],
    );
    assert.equal(report.checks.last_success!.last_success_run_id, '00000000-0000-4000-8000-000000000001');
    assert.equal(report.checks.database!.reachable, true);
    assert.equal(await gauge(metrics.volumeAnomaly), 0);
    assert.equal(await gauge(metrics.qualityScore), 98.5);
    for (const layer of ['staging', 'production', 'warehouse']) {
      const lag = await gauge(metrics.freshness, { layer });
      assert.ok(lag !== undefined && lag >= 0 && lag < 120, `${layer} lag ${lag}`);
    }
  });

  it('is critical when the last successful run finished longer ago than max_hours_since_success', async () => {
    await test.db.pool.query(`UPDATE pipeline.runs SET finished_at = now() - interval '30 hours'`);
    const { report } = await run();
    assert.equal(report.status, 'critical');
    assert.equal(report.health_score, 83);
    assert.equal(report.alerts.length, 1);
    assert.equal(report.alerts[0]!.check, 'last_success');
    assert.equal(report.alerts[0]!.severity, 'critical');
    assert.match(
      report.alerts[0]!.message,
      /last successful run finished 30(\.0\d)? h ago .* more than 25 h/,
    );
  });

  it('counts the current run as the last success when all of its main stages succeeded', async () => {
    await test.db.pool.query(`UPDATE pipeline.runs SET finished_at = now() - interval '30 hours'`);
    const stages = ['ingestion', 'quality-checks', 'production-etl', 'warehouse', 'analytics'].map((s) =>
      outcome(s, 'succeeded'),
    );
    const { report } = await run({ earlierStages: stages });
    assert.equal(report.status, 'healthy');
    assert.equal(report.checks.last_success!.current_run_counted, true);
    assert.equal(report.checks.last_success!.hours_since_success, 0);
  });

  it('is critical when no successful run is recorded at all', async () => {
    await test.db.pool.query(`UPDATE pipeline.runs SET status = 'failed'`);
    const { report } = await run();
    assert.equal(report.status, 'critical');
    assert.deepEqual(report.alerts, [
      { check: 'last_success', severity: 'critical', message: 'no successful pipeline run is recorded' },
    ]);
  });

  it('reports an earlier failed stage of this run and the stages it skipped', async () => {
    const stages = [
      outcome('ingestion', 'succeeded'),
      outcome('quality-checks', 'failed', 'quality gate: score 61.2 below 90'),
      outcome('production-etl', 'skipped'),
      outcome('warehouse', 'skipped'),
    ];
    const { report, result } = await run({ earlierStages: stages });
    assert.equal(report.status, 'critical');
    assert.deepEqual(report.alerts, [
      {
        check: 'run_stages',
        severity: 'critical',
        message:
          'stage failed in this run: quality-checks (after 3 attempts: quality gate: score 61.2 below 90); skipped: production-etl, warehouse',
      },
    ]);
    assert.deepEqual(report.checks.run_stages!.failed, ['quality-checks']);
    assert.equal(report.checks.last_success!.current_run_counted, false);
    assert.deepEqual(result.details?.alerts, report.alerts);
  });

  it('lists the stages an operator cancelled without alerting on them: a cancel is no failure', async () => {
    const stages = [
      outcome('ingestion', 'succeeded'),
      outcome('quality-checks', 'cancelled', 'run cancelled by an operator (requested by api on a)'),
      outcome('production-etl', 'skipped'),
    ];
    const { report } = await run({ earlierStages: stages });
    assert.equal(report.checks.run_stages!.status, 'ok');
    assert.deepEqual(report.checks.run_stages!.cancelled, ['quality-checks']);
    assert.deepEqual(report.checks.run_stages!.failed, []);
    assert.deepEqual(
      report.alerts.filter((a) => a.check === 'run_stages'),
      [],
    );
  });

  it('is degraded when a layer is older than its warning threshold and critical past the critical one', async () => {
    await test.db.pool.query(`UPDATE staging.transactions SET loaded_at = now() - interval '30 hours'`);
    const warned = await run();
    assert.equal(warned.report.status, 'degraded');
    assert.equal(warned.report.health_score, 92);
    assert.deepEqual(
      warned.report.alerts.map((a) => [a.check, a.severity]),
      [['freshness', 'warning']],
    );
    assert.match(
      warned.report.alerts[0]!.message,
      /^staging layer's newest row is 30(\.0\d)? h old \(warning above 26 h\)$/,
    );
    const lag = await gauge(warned.metrics.freshness, { layer: 'staging' });
    assert.ok(lag !== undefined && Math.abs(lag - 30 * 3600) < 120, `staging lag ${lag}`);

    await test.db.pool.query(`UPDATE warehouse.load_state SET loaded_through = now() - interval '3 days'`);
    const critical = await run();
    assert.equal(critical.report.status, 'critical');
    assert.deepEqual(
      critical.report.alerts.map((a) => [a.check, a.severity]),
      [
        ['freshness', 'warning'],
        ['freshness', 'critical'],
      ],
    );
    assert.match(
      critical.report.alerts[1]!.message,
      /^warehouse layer's newest row is 72(\.0\d)? h old \(critical above 50 h\)$/,
    );
  });

  it('follows the configured freshness thresholds of each layer', async () => {
    await test.db.pool.query(`UPDATE production.business_dates SET loaded_at = now() - interval '3 hours'`);
    const { report } = await run({
      config: {
        monitoring: {
          ...CONFIG.monitoring,
          freshness: { production: { warning_hours: 1, critical_hours: 2 } },
        },
      },
    });
    assert.deepEqual(
      report.alerts.map((a) => [a.check, a.severity]),
      [['freshness', 'critical']],
    );
    assert.match(report.alerts[0]!.message, /^production layer/);
  });

  it('raises a spike alert and sets the anomaly gauge to 1 when the run date far exceeds the baseline', async () => {
    await test.db.pool
      .query(`INSERT INTO production.transactions (transaction_id, customer_id, transaction_date, payment_method, total_amount, business_date)
      SELECT format('S-%s', n), 'C1', DATE '${RUN_DATE}', 'UPI', 10, DATE '${RUN_DATE}' FROM generate_series(1, 50) n`);
    const { report, metrics } = await run();
    assert.equal(report.status, 'degraded');
    assert.deepEqual(report.alerts, [
      {
        check: 'volume',
        severity: 'warning',
        message:
          'transaction volume spike on 2025-06-30: 150 transactions, expected 95.68..104.32 (mean 100 ± 3 sd over 30 days)',
      },
    ]);
    assert.equal(report.checks.volume!.state, 'spike');
    assert.equal(await gauge(metrics.volumeAnomaly), 1);
  });

  it('raises a drop alert and sets the anomaly gauge to -1 when the run date falls far below the baseline', async () => {
    await test.db.pool.query(
      `DELETE FROM production.transactions WHERE transaction_id LIKE 'R-%' AND transaction_id <> 'R-1'`,
    );
    const { report, metrics } = await run();
    assert.deepEqual(
      report.alerts.map((a) => [a.check, a.severity]),
      [['volume', 'warning']],
    );
    assert.match(report.alerts[0]!.message, /^transaction volume drop on 2025-06-30: 1 transactions/);
    assert.equal(await gauge(metrics.volumeAnomaly), -1);
  });

  it('gives no volume verdict and no alert when there is too little history', async () => {
    await test.db.pool.query(
      `DELETE FROM production.transactions WHERE transaction_date < DATE '${RUN_DATE}' - 3`,
    );
    const { report, metrics } = await run();
    assert.deepEqual(report.alerts, []);
    assert.equal(report.checks.volume!.state, 'insufficient_history');
    assert.equal(report.checks.volume!.history_days, 3);
    assert.equal(await gauge(metrics.volumeAnomaly), 0);
  });

  it('is degraded when the latest quality score is below min_quality_score, preferring this run’s score', async () => {
    const fromFile = await run({ qualityScore: 80 });
    assert.equal(fromFile.report.status, 'degraded');
    assert.deepEqual(fromFile.report.alerts, [
      { check: 'quality', severity: 'warning', message: 'data quality score 80 is below 95' },
    ]);
    assert.equal(await gauge(fromFile.metrics.qualityScore), 80);

    const fromRun = await run({
      qualityScore: 99,
      earlierStages: [outcome('quality-checks', 'succeeded', null, { score: 91.25, grade: 'A' })],
    });
    assert.deepEqual(
      fromRun.report.alerts.map((a) => a.message),
      ['data quality score 91.25 is below 95'],
    );
    assert.equal(fromRun.report.checks.quality!.source, 'stage quality-checks of this run');
  });

  it('warns when no quality score can be found', async () => {
    const { report, metrics } = await run({ qualityScore: null });
    assert.deepEqual(report.alerts, [
      {
        check: 'quality',
        severity: 'warning',
        message: 'no data quality score found (no quality stage result and no report file)',
      },
    ]);
    // Never set: prom-client shows an unset gauge as 0.
    assert.equal(await gauge(metrics.qualityScore), 0);
  });

  it('still writes a critical report, without throwing, when the database cannot be reached', async () => {
    const unreachable = unreachableDatabase();
    try {
      const { report } = await run({ db: unreachable });
      assert.equal(report.status, 'critical');
      assert.equal(report.checks.database!.status, 'critical');
      assert.deepEqual(
        report.alerts.map((a) => [a.check, a.severity]),
        [
          ['last_success', 'warning'],
          ['freshness', 'warning'],
          ['volume', 'warning'],
          ['database', 'critical'],
        ],
      );
      assert.match(report.alerts.at(-1)!.message, /^could not check database: /);
    } finally {
      await unreachable.close();
    }
  });
});
