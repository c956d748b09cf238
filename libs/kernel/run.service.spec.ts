import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { migrate } from '../database/index.js';
import { builtInSchemaOwners, databaseKinds, type TestDatabase } from '../../test/support/databases.js';
import { metricValue, testRunService } from '../../test/support/kernel.js';
import { PermanentError, RetryableError } from './errors.js';
import { RunLockedError } from './run.service.js';
import { RunHistory } from './run-history.js';
import type { RunReport } from './run-report.js';
import { Stage } from './stage.decorator.js';
import type { PipelineStage, StageContext, StageResult } from './stage.js';

/** The contract of warehouse-contract.md, table by table (columns users' SQL depends on). */
const CONTRACT: Record<string, string[]> = {
  'staging.customers': [
    'customer_id',
    'first_name',
    'last_name',
    'email',
    'phone',
    'registration_date',
    'city',
    'state',
    'country',
    'age_group',
    'loaded_at',
  ],
  'staging.products': [
    'product_id',
    'product_name',
    'category',
    'sub_category',
    'price',
    'cost',
    'brand',
    'stock_quantity',
    'supplier_id',
    'loaded_at',
  ],
  'staging.transactions': [
    'transaction_id',
    'customer_id',
    'transaction_date',
    'transaction_time',
    'payment_method',
    'shipping_address',
    'total_amount',
    'loaded_at',
  ],
  'staging.transaction_items': [
    'item_id',
    'transaction_id',
    'product_id',
    'quantity',
    'unit_price',
    'discount_percentage',
    'line_total',
    'loaded_at',
  ],
  'production.customers': [
    'customer_id',
    'first_name',
    'last_name',
    'email',
    'phone',
    'registration_date',
    'city',
    'state',
    'country',
    'age_group',
    'created_at',
    'updated_at',
  ],
  'production.products': [
    'product_id',
    'product_name',
    'category',
    'sub_category',
    'price',
    'cost',
    'brand',
    'stock_quantity',
    'supplier_id',
    'profit_margin',
    'price_category',
    'created_at',
    'updated_at',
  ],
  'production.transactions': [
    'transaction_id',
    'customer_id',
    'transaction_date',
    'transaction_time',
    'payment_method',
    'shipping_address',
    'total_amount',
    'created_at',
    'updated_at',
  ],
  'production.transaction_items': [
    'item_id',
    'transaction_id',
    'product_id',
    'quantity',
    'unit_price',
    'discount_percentage',
    'line_total',
    'created_at',
    'updated_at',
  ],
  'warehouse.dim_date': [
    'date_key',
    'full_date',
    'year',
    'quarter',
    'month',
    'day',
    'month_name',
    'day_name',
    'week_of_year',
    'is_weekend',
  ],
  'warehouse.dim_payment_method': ['payment_method_key', 'payment_method_name', 'payment_type'],
  'warehouse.dim_customers': [
    'customer_key',
    'customer_id',
    'full_name',
    'email',
    'city',
    'state',
    'country',
    'age_group',
    'customer_segment',
    'registration_date',
    'effective_date',
    'end_date',
    'is_current',
  ],
  'warehouse.dim_products': [
    'product_key',
    'product_id',
    'product_name',
    'category',
    'sub_category',
    'brand',
    'price_range',
    'effective_date',
    'end_date',
    'is_current',
  ],
  'warehouse.fact_sales': [
    'sales_key',
    'date_key',
    'customer_key',
    'product_key',
    'payment_method_key',
    'transaction_id',
    'quantity',
    'unit_price',
    'discount_amount',
    'line_total',
    'profit',
    'created_at',
    'item_id',
  ],
  'warehouse.agg_daily_sales': [
    'date_key',
    'total_transactions',
    'total_revenue',
    'total_profit',
    'unique_customers',
  ],
  'warehouse.agg_product_performance': [
    'product_key',
    'total_quantity_sold',
    'total_revenue',
    'total_profit',
    'avg_discount_percentage',
  ],
  'warehouse.agg_customer_metrics': [
    'customer_key',
    'total_transactions',
    'total_spent',
    'avg_order_value',
    'last_purchase_date',
  ],
  'pipeline.runs': ['id', 'trigger', 'run_date', 'status', 'started_at', 'finished_at', 'error', 'report'],
  'pipeline.stage_runs': ['run_id', 'stage', 'status', 'attempts', 'rows', 'error'],
  'pipeline.stage_attempts': ['run_id', 'stage', 'attempt', 'outcome', 'error'],
  'pipeline.migrations': ['id', 'timestamp', 'name'],
};

/**
 * Types the contract spells out; a compatible type is the same type, or a wider one that holds
 * every value of it: staging's money and discount are unconstrained `numeric` (migration 0014),
 * so that the quality gate sees a third decimal instead of COPY rounding it away.
 */
const CONTRACT_TYPES: Record<string, string> = {
  'staging.customers.registration_date': 'date',
  'staging.products.price': 'numeric',
  'staging.products.stock_quantity': 'integer',
  'staging.transactions.transaction_time': 'time without time zone',
  'staging.transaction_items.discount_percentage': 'numeric',
  'production.products.profit_margin': 'numeric(5,2)',
  'warehouse.dim_date.date_key': 'integer',
  'pipeline.runs.report': 'jsonb',
};

// Test-only plugin: writes one row per run in one fenced transaction, like a real stage.
const calls = { extract: 0, load: 0, flaky: 0, fail: 0, after: 0 };

@Injectable()
@Stage({ name: 'extract', description: 'writes a marker row' })
class ExtractStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    calls.extract++;
    await ctx.db.transaction(async (tx) => {
      await tx.query('INSERT INTO kernel_test.writes (run_id, stage) VALUES ($1, $2)', [
        ctx.runId,
        'extract',
      ]);
      await ctx.checkpoint('extract:written');
    });
    return {
      rows: [{ table: 'kernel_test.writes', read: 3, written: 1, rejected: 2 }],
      details: { run_date: ctx.runDate },
    };
  }
}

@Injectable()
@Stage({ name: 'load', description: 'needs extract', dependsOn: ['extract'] })
class LoadStage implements PipelineStage {
  async run(): Promise<StageResult> {
    calls.load++;
    return { files: ['processed/load.csv'], warnings: ['nothing new'] };
  }
}

@Injectable()
@Stage({ name: 'flaky', description: 'fails once, then succeeds', dependsOn: ['load'] })
class FlakyStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    calls.flaky++;
    if (ctx.attempt === 1) throw new RetryableError('connection reset by peer');
    return {};
  }
}

@Injectable()
@Stage({ name: 'fail', description: 'bad input' })
class FailStage implements PipelineStage {
  async run(): Promise<StageResult> {
    calls.fail++;
    throw new PermanentError('customers.csv line 4 column email: not an email');
  }
}

@Injectable()
@Stage({ name: 'after', description: 'needs fail', dependsOn: ['fail'] })
class AfterStage implements PipelineStage {
  async run(): Promise<StageResult> {
    calls.after++;
    return {};
  }
}

@Injectable()
@Stage({ name: 'patient', description: 'works until told to stop' })
class PatientStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }),
    );
  }
}

/** Stages named like others above that report what the kernel told them of earlier dates. */
@Injectable()
@Stage({ name: 'extract', description: 'reports succeededBefore' })
class RecallExtractStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return { details: { succeeded_before: ctx.succeededBefore } };
  }
}

@Injectable()
@Stage({ name: 'fail', description: 'reports succeededBefore' })
class RecallFailStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return { details: { succeeded_before: ctx.succeededBefore } };
  }
}

@Injectable()
@Stage({ name: 'pathy', description: 'logs and fails naming files by their absolute path' })
class PathyStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    ctx.logger.info('wrote a file', { file: join(ctx.paths.root, 'processed', 'out.csv') });
    throw new PermanentError(`${join(ctx.paths.root, 'raw', '2025-03-08', 'customers.csv')}: line 2: bad`);
  }
}

const retryFast = { pipeline: { retry: { attempts: 2, base_delay_ms: 1, max_delay_ms: 1, jitter: 0 } } };

for (const { kind, skip, open } of databaseKinds) {
  describe(`run store on ${kind}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
      await t.db.pool.query(
        'CREATE SCHEMA kernel_test; CREATE TABLE kernel_test.writes (run_id uuid NOT NULL, stage text NOT NULL)',
      );
    });
    after(async () => t?.dispose());

    it('creates every contract table and column', async () => {
      const { rows } = await t.db.pool.query<{ table_name: string; column_name: string; type: string }>(
        `SELECT c.table_schema || '.' || c.table_name AS table_name, c.column_name, format_type(a.atttypid, a.atttypmod) AS type
         FROM information_schema.columns c
         JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass AND a.attname = c.column_name
         WHERE c.table_schema IN ('staging', 'production', 'warehouse', 'pipeline')`,
      );
      const present = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r.type]));
      const missing = Object.entries(CONTRACT).flatMap(([table, columns]) =>
        columns.map((c) => `${table}.${c}`).filter((c) => !present.has(c)),
      );
      assert.deepEqual(missing, []);
      for (const [column, type] of Object.entries(CONTRACT_TYPES))
        assert.equal(present.get(column), type, column);
    });

    it('applies nothing when migrated a second time', async () => {
      const before = await t.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pipeline.migrations',
      );
      assert.ok(before.rows[0]!.n >= 1);
      assert.deepEqual(await migrate(t.db, builtInSchemaOwners), []);
      const again = await t.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pipeline.migrations',
      );
      assert.equal(again.rows[0]!.n, before.rows[0]!.n);
    });

    it('records a succeeded run with its stages, attempts, report and report file', async () => {
      const k = testRunService(t.db, [new ExtractStage(), new LoadStage(), new FlakyStage()], {
        config: retryFast,
      });
      const report = await k.service.run({ trigger: 'cli', runDate: '2025-03-04' });
      assert.equal(report.status, 'succeeded');
      assert.equal(report.error, null);

      const { rows: runs } = await t.db.pool.query(
        `SELECT status, trigger, to_char(run_date, 'YYYY-MM-DD') AS run_date, code_version, config_hash, error, finished_at IS NOT NULL AS finished, report
         FROM pipeline.runs WHERE id = $1`,
        [report.run_id],
      );
      assert.equal(runs.length, 1);
      const run = runs[0]!;
      assert.deepEqual(
        {
          status: run.status,
          trigger: run.trigger,
          run_date: run.run_date,
          code_version: run.code_version,
          config_hash: run.config_hash,
          error: run.error,
          finished: run.finished,
        },
        {
          status: 'succeeded',
          trigger: 'cli',
          run_date: '2025-03-04',
          code_version: 'test',
          config_hash: k.config.hash,
          error: null,
          finished: true,
        },
      );
      assert.deepEqual(run.report, report);
      assert.deepEqual(
        (run.report as RunReport).stages.map((s) => [s.stage, s.status, s.attempts]),
        [
          ['extract', 'succeeded', 1],
          ['load', 'succeeded', 1],
          ['flaky', 'succeeded', 2],
        ],
      );
      assert.deepEqual(report.warnings, ['load: nothing new']);

      const { rows: stages } = await t.db.pool.query(
        `SELECT stage, position, status, attempts, rows, details, error, error_kind, started_at IS NOT NULL AS started, finished_at IS NOT NULL AS finished
         FROM pipeline.stage_runs WHERE run_id = $1 ORDER BY position`,
        [report.run_id],
      );
      assert.deepEqual(stages, [
        {
          stage: 'extract',
          position: 1,
          status: 'succeeded',
          attempts: 1,
          rows: [{ table: 'kernel_test.writes', read: 3, written: 1, rejected: 2 }],
          details: { run_date: '2025-03-04' },
          error: null,
          error_kind: null,
          started: true,
          finished: true,
        },
        {
          stage: 'load',
          position: 2,
          status: 'succeeded',
          attempts: 1,
          rows: [],
          details: null,
          error: null,
          error_kind: null,
          started: true,
          finished: true,
        },
        {
          stage: 'flaky',
          position: 3,
          status: 'succeeded',
          attempts: 2,
          rows: [],
          details: null,
          error: null,
          error_kind: null,
          started: true,
          finished: true,
        },
      ]);

      const { rows: attempts } = await t.db.pool.query(
        `SELECT stage, attempt, outcome, error, retry_delay_ms, finished_at IS NOT NULL AS finished FROM pipeline.stage_attempts WHERE run_id = $1 ORDER BY stage, attempt`,
        [report.run_id],
      );
      assert.deepEqual(attempts, [
        {
          stage: 'extract',
          attempt: 1,
          outcome: 'succeeded',
          error: null,
          retry_delay_ms: null,
          finished: true,
        },
        {
          stage: 'flaky',
          attempt: 1,
          outcome: 'failed',
          error: 'connection reset by peer',
          retry_delay_ms: 1,
          finished: true,
        },
        {
          stage: 'flaky',
          attempt: 2,
          outcome: 'succeeded',
          error: null,
          retry_delay_ms: null,
          finished: true,
        },
        {
          stage: 'load',
          attempt: 1,
          outcome: 'succeeded',
          error: null,
          retry_delay_ms: null,
          finished: true,
        },
      ]);

      const written = await t.db.pool.query('SELECT stage FROM kernel_test.writes WHERE run_id = $1', [
        report.run_id,
      ]);
      assert.deepEqual(written.rows, [{ stage: 'extract' }]);

      const file = JSON.parse(
        readFileSync(join(k.config.dataDir, 'processed', 'pipeline_execution_report.json'), 'utf8'),
      ) as RunReport;
      assert.deepEqual(file, report);

      assert.equal(await metricValue(k.metrics.runsTotal, { status: 'succeeded' }), 1);
      assert.equal(await metricValue(k.metrics.stageAttempts, { stage: 'flaky', outcome: 'retried' }), 1);
      assert.equal(
        await metricValue(k.metrics.rowsTotal, {
          stage: 'extract',
          table: 'kernel_test.writes',
          kind: 'rejected',
        }),
        2,
      );
      assert.equal(await metricValue(k.metrics.lockHeld), 0);
      assert.ok((await metricValue(k.metrics.lastSuccess)) > 0);
    });

    it('records a failed run with its error and skips the dependents of the failed stage', async () => {
      const before = { ...calls };
      const k = testRunService(t.db, [new FailStage(), new AfterStage(), new ExtractStage()], {
        config: retryFast,
      });
      const report = await k.service.run({ trigger: 'api', runDate: '2025-03-05' });
      assert.equal(report.status, 'failed');
      assert.equal(report.error, 'fail: customers.csv line 4 column email: not an email');
      assert.equal(calls.fail - before.fail, 1);
      assert.equal(calls.after - before.after, 0);
      assert.equal(calls.extract - before.extract, 1);

      const { rows: runs } = await t.db.pool.query('SELECT status, error FROM pipeline.runs WHERE id = $1', [
        report.run_id,
      ]);
      assert.deepEqual(runs, [
        { status: 'failed', error: 'fail: customers.csv line 4 column email: not an email' },
      ]);
      const { rows: stages } = await t.db.pool.query(
        'SELECT stage, status, attempts, error, error_kind, finished_at IS NULL AS unfinished FROM pipeline.stage_runs WHERE run_id = $1 ORDER BY position',
        [report.run_id],
      );
      assert.deepEqual(stages, [
        {
          stage: 'fail',
          status: 'failed',
          attempts: 1,
          error: 'customers.csv line 4 column email: not an email',
          error_kind: 'permanent',
          unfinished: false,
        },
        {
          stage: 'after',
          status: 'skipped',
          attempts: 0,
          error: 'skipped: fail failed',
          error_kind: null,
          unfinished: true,
        },
        {
          stage: 'extract',
          status: 'succeeded',
          attempts: 1,
          error: null,
          error_kind: null,
          unfinished: false,
        },
      ]);
      assert.equal(await metricValue(k.metrics.runsTotal, { status: 'failed' }), 1);
      assert.equal(await metricValue(k.metrics.lastSuccess), 0);
      const file = JSON.parse(
        readFileSync(join(k.config.dataDir, 'processed', 'pipeline_execution_report.json'), 'utf8'),
      ) as RunReport;
      assert.equal(file.status, 'failed');
    });

    it('lists runs newest first and finds one by id', async () => {
      const k = testRunService(t.db, [new ExtractStage()]);
      const { runs: list } = await new RunHistory(t.db.pool).find({ limit: 10 });
      assert.deepEqual(
        list.map((r) => r.run_date),
        ['2025-03-05', '2025-03-04'],
      );
      const one = await k.store.get(list[0]!.id);
      assert.equal(one?.status, 'failed');
      assert.deepEqual(
        one?.stages.map((s) => s.stage),
        ['fail', 'after', 'extract'],
      );
      assert.equal(await k.store.get('00000000-0000-4000-8000-000000000000'), null);
    });

    it('interrupts the running stage on shutdown after the grace period, records the run as interrupted and takes no more runs', async () => {
      const before = calls.extract;
      const k = testRunService(t.db, [new PatientStage(), new ExtractStage()]);
      const started = await k.service.start({ trigger: 'cli', runDate: '2025-03-06' });
      await k.service.shutdown(50);
      const report = await started.done;
      assert.equal(report.status, 'interrupted');
      assert.deepEqual(
        report.stages.map((s) => [s.stage, s.status, s.error]),
        [
          ['patient', 'failed', 'the daemon is shutting down'],
          ['extract', 'skipped', 'run aborted: the daemon is shutting down'],
        ],
      );
      assert.equal(calls.extract, before);
      const { rows } = await t.db.pool.query('SELECT status FROM pipeline.runs WHERE id = $1', [
        started.runId,
      ]);
      assert.deepEqual(rows, [{ status: 'interrupted' }]);
      const attempts = await t.db.pool.query(
        'SELECT outcome FROM pipeline.stage_attempts WHERE run_id = $1',
        [started.runId],
      );
      assert.deepEqual(attempts.rows, [{ outcome: 'aborted' }]);
      await assert.rejects(k.service.start({ trigger: 'cli' }), RunLockedError);
    });

    it("records a stage's end and the run's end through a failure that passes (a dropped connection)", async () => {
      const k = testRunService(t.db, [new ExtractStage()]);
      const failOnce = <A extends unknown[], R>(write: (...args: A) => Promise<R>) => {
        let failed = false;
        return async (...args: A): Promise<R> => {
          if (!failed) {
            failed = true;
            throw new Error('Connection terminated unexpectedly');
          }
          return write(...args);
        };
      };
      k.store.stageFinished = failOnce(k.store.stageFinished.bind(k.store));
      k.store.finish = failOnce(k.store.finish.bind(k.store));
      const report = await k.service.run({ trigger: 'cli', runDate: '2025-03-07' });
      assert.equal(report.status, 'succeeded');
      const { rows } = await t.db.pool.query(
        `SELECT r.status AS run, s.status AS stage FROM pipeline.runs r JOIN pipeline.stage_runs s ON s.run_id = r.id
         WHERE r.id = $1`,
        [report.run_id],
      );
      assert.deepEqual(rows, [{ run: 'succeeded', stage: 'succeeded' }]);
    });

    it("names files relative to the data folder in the run's records and log lines, never by its path", async () => {
      const k = testRunService(t.db, [new PathyStage()]);
      const report = await k.service.run({ trigger: 'cli', runDate: '2025-03-08' });
      assert.equal(report.error, 'pathy: raw/2025-03-08/customers.csv: line 2: bad');
      // The last lines are written after the run lock is freed: wait for them.
      let kept = '';
      for (let i = 0; i < 50 && !kept.includes('run finished'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { rows } = await t.db.pool.query<{ line: string }>(
          `SELECT message || ' ' || coalesce(fields::text, '') AS line FROM pipeline.run_logs WHERE run_id = $1`,
          [report.run_id],
        );
        kept = rows.map((r) => r.line).join('\n');
      }
      assert.match(kept, /run finished/);
      assert.match(kept, /processed\/out\.csv/);
      assert.match(kept, /raw\/2025-03-08\/customers\.csv: line 2: bad/);
      assert.ok(!kept.includes(k.config.dataDir), `the data folder's path is in the log:\n${kept}`);
    });

    it('tells each stage the latest earlier business date on which it succeeded, in any run', async () => {
      // By now: extract succeeded on 03-04, 03-05 (a run that failed in another stage) and 03-07;
      // fail never succeeded.
      const k = testRunService(t.db, [new RecallExtractStage(), new RecallFailStage()]);
      const told = async (runDate: string) => {
        const report = await k.service.run({ trigger: 'cli', runDate });
        return Object.fromEntries(report.stages.map((s) => [s.stage, s.details?.succeeded_before]));
      };
      assert.deepEqual(await told('2025-03-06'), { extract: '2025-03-05', fail: null });
      assert.deepEqual(await told('2025-03-04'), { extract: null, fail: null });
      // The run of 03-06 above counts for the dates after it.
      assert.deepEqual(await told('2025-03-07'), { extract: '2025-03-06', fail: '2025-03-06' });
    });
  });
}
