import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  RetryableError,
  Stage,
  stepTimer,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '@pipeline/kernel';
import { productionEtlConfigSchema, type ProductionEtlSettings } from './production-etl.config.js';
import {
  ProductionLoadRepository,
  type BulkLoadObject,
  type OutcomeRow,
  type ProductionTable,
} from './production-load.repository.js';
import {
  dimensionSummary,
  expectedWrites,
  factSummary,
  reconciliationSummary,
  transformationsApplied,
  writeSummary,
  type TransformationSummary,
} from './transformation-summary.js';

export const PRODUCTION_ETL_STAGE = {
  name: 'production-etl',
  description:
    'Cleanses staging into production: dimensions mirrored, facts appended, rejects kept, totals reconciled',
  dependsOn: ['quality-checks'],
  // The gate reads staging as this stage does and writes nothing this stage reads, so this stage
  // classifies alongside it and commits only once it has passed (at a million transactions the
  // two together took 22 s instead of 28 s).
  gatedBy: ['quality-checks'],
  config: { key: 'production', schema: productionEtlConfigSchema },
} as const;

/**
 * `staging` -> `production` in one transaction. Classification first (every staged row is either
 * accepted with an action or rejected with a reason), then the writes, all set-based SQL.
 */
@Stage(PRODUCTION_ETL_STAGE)
export class ProductionEtlStage implements PipelineStage<ProductionEtlSettings> {
  async run(ctx: StageContext<ProductionEtlSettings>): Promise<StageResult> {
    const started = performance.now();
    const settings = ctx.settings;

    // Wall time of each step, in the summary: where a slow load spends its time.
    const { step, ms: stepMs } = stepTimer();

    const loaded = await ctx.db.transaction(async (tx) => {
      const repository = new ProductionLoadRepository(tx);
      await step('prepare', () => repository.prepare(ctx.runId, ctx.runDate, settings));
      await step('state_before', () => repository.loadStateBefore());
      // Products first: they take about as long as the quality gate beside this stage, so that
      // the customers' classification, which can use a parallel worker, finds the second core free.
      await step('classify_products', () => repository.classifyProducts());
      await step('classify_customers', () => repository.classifyCustomers());
      ctx.signal.throwIfAborted();
      await step('classify_transactions', () => repository.classifyTransactions());
      ctx.signal.throwIfAborted();
      await step('classify_transaction_items', () => repository.classifyTransactionItems());
      ctx.signal.throwIfAborted();

      const { outcomes, transformations, reconciliation } = await step('count', async () => ({
        outcomes: await repository.outcomes(),
        transformations: await repository.transformations(),
        reconciliation: await repository.reconciliation(settings.reported_ids_limit),
      }));
      const rejected = await step('record_rejects', () => repository.recordRejects(outcomes));

      const customers = await step('write_customers', () => repository.writeDimension('customers'));
      const products = await step('write_products', () => repository.writeDimension('products'));
      ctx.signal.throwIfAborted();

      const movedTransactions = await step('update_transactions', () => repository.updateTransactions());
      const newFactRows =
        expectedWrites(outcomes, 'transactions').inserted +
        expectedWrites(outcomes, 'transaction_items').inserted;
      const bulk = settings.bulk_load;
      const bulkLoad =
        newFactRows > bulk.min_new_rows &&
        newFactRows >= bulk.min_share_of_existing * (await repository.factRowsEstimate());
      // Per-row FK triggers and index inserts dominate a large INSERT ... SELECT; rebuilding after
      // the INSERTs does the same work set-based (measured at 300k items: insert CPU 10.1 s -> 4.8 s
      // for the whole stage). All inside this transaction: nothing else sees the tables without them.
      const setAside: BulkLoadObject[] = bulkLoad ? await repository.bulkLoadObjects() : [];
      await step('set_aside_keys_and_indexes', async () => {
        for (const object of [...setAside].reverse()) await repository.dropObject(object);
      });
      const transactions = await step('insert_transactions', () => repository.insertTransactions());
      assertWrites(outcomes, 'transactions', transactions);
      const items = await step('insert_transaction_items', () => repository.insertTransactionItems());
      assertWrites(outcomes, 'transaction_items', items);
      await step('rebuild_keys_and_indexes', async () => {
        for (const object of setAside) await repository.rebuildObject(object);
      });
      const settled = await step('settle_facts', () => repository.settleFacts());
      if (bulkLoad) await step('analyze', () => repository.analyzeProduction());
      await repository.forgetStateBefore();

      await ctx.checkpoint('production-etl:loaded');
      return {
        rejected,
        outcomes,
        transformations,
        reconciliation,
        customers,
        products,
        transactions,
        items,
        movedTransactions,
        settled,
        newFactRows,
        setAside,
        bulkLoad,
      };
    });

    const tables: TransformationSummary['tables'] = {
      customers: dimensionSummary(loaded.outcomes, 'customers', loaded.customers),
      products: dimensionSummary(loaded.outcomes, 'products', loaded.products),
      transactions: factSummary(loaded.outcomes, 'transactions', loaded.transactions, {
        withdrawn: loaded.movedTransactions.dropped,
        promoted: loaded.movedTransactions.promoted,
      }),
      transaction_items: factSummary(loaded.outcomes, 'transaction_items', loaded.items, {
        withdrawn: loaded.settled.itemsWithdrawn,
        promoted: loaded.settled.itemsPromoted,
      }),
    };
    const complete: TransformationSummary = {
      run_id: ctx.runId,
      run_date: ctx.runDate,
      tables,
      rejected_total: loaded.rejected,
      withdrawn_total: loaded.movedTransactions.dropped + loaded.settled.itemsWithdrawn,
      ignored_changed_facts:
        tables.transactions.ignored_changed_facts + tables.transaction_items.ignored_changed_facts,
      transformations: transformationsApplied(loaded.transformations),
      reconciliation: reconciliationSummary(loaded.reconciliation, loaded.settled.totalsReconciled),
      load: {
        new_fact_rows: loaded.newFactRows,
        bulk_load: loaded.bulkLoad,
        unique_keys_rebuilt: loaded.setAside.filter((o) => o.kind === 'unique_key').map((o) => o.name),
        foreign_keys_revalidated: loaded.setAside.filter((o) => o.kind === 'foreign_key').map((o) => o.name),
        indexes_rebuilt: loaded.setAside.filter((o) => o.kind === 'index').map((o) => o.name),
      },
      settings: {
        price_category: settings.price_category,
        line_total_tolerance: settings.line_total_tolerance,
        bulk_load: settings.bulk_load,
      },
      step_ms: stepMs,
      duration_ms: Math.round(performance.now() - started),
    };
    const file = await writeSummary(ctx.paths.own, complete);
    ctx.logger.info('production load committed', {
      rejected: complete.rejected_total,
      transactions: tables.transactions.inserted,
      items: tables.transaction_items.inserted,
      corrected: tables.transactions.corrected + tables.transaction_items.corrected,
      takenOver: tables.transactions.taken_over + tables.transaction_items.taken_over,
      withdrawn: complete.withdrawn_total,
      durationMs: complete.duration_ms,
    });
    if (complete.withdrawn_total > 0)
      ctx.logger.warn('facts withdrawn: the input of their business date no longer holds them', {
        businessDate: ctx.runDate,
        transactions: tables.transactions.withdrawn,
        items: tables.transaction_items.withdrawn,
        table: 'production.withdrawn_facts',
      });

    return {
      rows: [
        dimensionRow('production.customers', tables.customers),
        dimensionRow('production.products', tables.products),
        factRow('production.transactions', tables.transactions),
        factRow('production.transaction_items', tables.transaction_items),
      ],
      files: [relative(ctx.paths.root, file)],
      details: { ...complete },
      warnings: warningsOf(complete),
    };
  }
}

function dimensionRow(
  table: string,
  s: TransformationSummary['tables']['customers'],
): { table: string; read: number; written: number; rejected: number } {
  return { table, read: s.records_in, written: s.production_rows_written, rejected: s.rejected };
}

function factRow(
  table: string,
  s: TransformationSummary['tables']['transactions'],
): { table: string; read: number; written: number; rejected: number } {
  return {
    table,
    read: s.records_in,
    written: s.inserted + s.corrected + s.taken_over + s.withdrawn + s.promoted,
    rejected: s.rejected,
  };
}

function warningsOf(summary: TransformationSummary): string[] {
  const warnings: string[] = [];
  if (summary.rejected_total > 0)
    warnings.push(
      `${summary.rejected_total} staged rows rejected (production.rejected_rows, run ${summary.run_id})`,
    );
  if (summary.ignored_changed_facts > 0)
    warnings.push(
      `${summary.ignored_changed_facts} facts of an earlier business date arrived again with other values; the earlier date's values stand`,
    );
  if (summary.withdrawn_total > 0)
    warnings.push(
      `${summary.withdrawn_total} facts of ${summary.run_date} withdrawn: its input no longer holds them (production.withdrawn_facts, run ${summary.run_id})`,
    );
  // A corrected amount loads, so the run passes; the warning keeps it from passing unseen.
  const { reconciliation } = summary;
  if (reconciliation.line_totals_corrected > 0)
    warnings.push(
      `${reconciliation.line_totals_corrected} line_total(s) differed from round(quantity * unit_price * (1 - discount_percentage / 100), 2) and were replaced by it (items ${listed(reconciliation.line_total_corrected_item_ids, reconciliation.line_totals_corrected)})`,
    );
  if (reconciliation.transaction_totals_corrected > 0)
    warnings.push(
      `${reconciliation.transaction_totals_corrected} total_amount(s) differed from the sum of their loaded lines and were replaced by it (transactions ${listed(reconciliation.total_corrected_transaction_ids, reconciliation.transaction_totals_corrected)})`,
    );
  return warnings;
}

/** The ids the summary lists, and how many more there are. */
function listed(ids: readonly string[], total: number): string {
  const more = total > ids.length ? ` and ${total - ids.length} more` : '';
  return `${ids.join(', ')}${more}`;
}

/**
 * The inserts must match the classification they were derived from; a difference means another
 * writer touched production meanwhile, and the attempt is rolled back and retried.
 */
function assertWrites(outcomes: readonly OutcomeRow[], table: ProductionTable, inserted: number): void {
  const expected = expectedWrites(outcomes, table).inserted;
  if (inserted !== expected) {
    throw new RetryableError(
      `production.${table}: wrote ${inserted} new rows, expected ${expected}: production changed during the load`,
    );
  }
}
