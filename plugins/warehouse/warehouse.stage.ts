import { Injectable } from '@nestjs/common';
import {
  PermanentError,
  Stage,
  stepTimer,
  type PipelineStage,
  type StageContext,
  type StageResult,
  type TimedStep,
} from '../../libs/kernel/index.js';
import {
  EARLIEST_BUSINESS_DATE,
  MAX_DAYS_AFTER_RUN_DATE,
  latestBusinessDate,
} from '../../libs/contract/index.js';
import { warehouseConfigSchema, type WarehouseSettings } from './warehouse.config.js';
import {
  WarehouseRepository,
  NO_FACTS_YET,
  type DateOutOfRange,
  type Dimension,
  type LookupMiss,
  type VersionChanges,
} from './warehouse.repository.js';

/** How many items (or transactions) a lookup-miss (or date) error names. */
const MISSES_NAMED = 10;

/**
 * production -> warehouse star schema in one transaction: date and payment method dimensions,
 * SCD type 2 customer and product dimensions (change date = the run date), the item-grain
 * fact table loaded incrementally, and the aggregates kept equal to a GROUP BY over the facts.
 */
@Injectable()
@Stage({
  name: 'warehouse',
  description:
    'Loads the warehouse star schema (SCD2 dimensions, incremental facts, aggregates) from production',
  dependsOn: ['production-etl'],
  config: { key: 'warehouse', schema: warehouseConfigSchema },
})
export class WarehouseStage implements PipelineStage<WarehouseSettings> {
  async run(ctx: StageContext<WarehouseSettings>): Promise<StageResult> {
    const settings = ctx.settings;
    // Wall time of each step, in the details: where a slow load spends its time.
    const { step, ms: stepMs } = stepTimer();
    return ctx.db.transaction(async (tx) => {
      const repo = new WarehouseRepository(tx);
      await step('prepare', async () => {
        await repo.setSessionSettings(settings.work_mem_mb, settings.random_page_cost);
        await repo.lockWarehouse();
      });

      const loadedSince = await step('facts_loaded_since', () => repo.factsLoadedSince());
      const latest = latestBusinessDate(ctx.runDate);
      const outOfRange = await step('dim_date_range', () =>
        repo.findDatesOutOfRange(EARLIEST_BUSINESS_DATE, latest, MISSES_NAMED),
      );
      if (outOfRange.length > 0) throw dateOutOfRangeError(outOfRange, latest);
      const days = await step('dim_date', () => repo.extendDateDimension());
      const paymentMethods = await step('dim_payment_method', () => repo.addPaymentMethods(loadedSince));
      ctx.signal.throwIfAborted();

      await step('member_changes', () => repo.collectMemberChanges(loadedSince));
      const allSegments = await step('customer_segments', () =>
        repo.computeCustomerSegments(
          settings.high_value_min_spend,
          settings.medium_value_min_spend,
          loadedSince,
        ),
      );
      const customers = await applyVersionChanges(repo, 'dim-customers', ctx.runDate, step);
      const customerTypeOneUpdates = await step('dim_customers_type1', () =>
        repo.applyCustomerTypeOneAttributes(),
      );
      const products = await applyVersionChanges(repo, 'dim-products', ctx.runDate, step);
      ctx.signal.throwIfAborted();

      // A first load (no fact yet) goes straight from production into fact_sales and computes the
      // aggregates in one pass each; every later load collects its increment first, so that lookup
      // misses are named before anything is written and the aggregates recompute touched keys only.
      const firstLoad = loadedSince === NO_FACTS_YET;
      let newSales: number;
      let facts: number;
      let largeLoad: boolean;
      if (firstLoad) {
        // An empty table: dropping and re-adding its keys costs next to nothing, whatever the size.
        largeLoad = true;
        await step('analyze_dimensions', () => repo.analyzeDimensions());
        await step('drop_keys_and_indexes', () => repo.dropFactForeignKeysAndIndexes());
        const inserted = await step('insert_facts', () => repo.insertFirstLoadFacts());
        if (inserted === null) {
          await repo.collectNewSales(loadedSince);
          const misses = await repo.findLookupMisses(MISSES_NAMED);
          throw misses.length > 0
            ? lookupMissError(misses)
            : new PermanentError('warehouse.fact_sales: the first load met a NULL in a NOT NULL column');
        }
        newSales = facts = inserted;
      } else {
        newSales = await step('collect_new_sales', () => repo.collectNewSales(loadedSince));
        const misses = await step('lookup_misses', () => repo.findLookupMisses(MISSES_NAMED));
        if (misses.length > 0) throw lookupMissError(misses);
        ctx.signal.throwIfAborted();

        largeLoad =
          newSales > settings.large_load_threshold ||
          (newSales >= settings.large_load_min_new_facts && newSales >= (await repo.factRowsEstimate()));
        if (largeLoad) await step('drop_keys_and_indexes', () => repo.dropFactForeignKeysAndIndexes());
        facts = await step('insert_facts', () => repo.insertFacts());
      }
      if (largeLoad) {
        await step('add_keys_and_indexes', () => repo.addFactForeignKeysAndIndexes());
        // On a first load the dimensions were analysed before the insert.
        await step('analyze', () => (firstLoad ? repo.analyzeFacts() : repo.analyzeWarehouse()));
      }
      ctx.signal.throwIfAborted();

      // Every aggregate row again, from all the facts, on a first load and when the facts changed
      // other than by appending since the last run (the product sums were emptied then).
      const recomputeAll =
        firstLoad || !(await step('aggregates_follow_facts', () => repo.aggregatesFollowFacts()));
      if (recomputeAll) await step('agg_clear', () => repo.clearAggregates());
      const aggregates = {
        dailySales: await step('agg_daily_sales', () =>
          recomputeAll ? repo.computeAggregate('agg-daily-sales') : repo.refreshAggregate('agg-daily-sales'),
        ),
        productPerformance: await step('agg_product_performance', () =>
          repo.refreshProductPerformance(recomputeAll),
        ),
        customerMetrics: await step('agg_customer_metrics', () =>
          repo.refreshCustomerMetrics(recomputeAll, loadedSince),
        ),
      };
      await ctx.checkpoint('warehouse:loaded');

      ctx.logger.info('warehouse loaded', { facts, largeLoad, customers, products });
      return {
        rows: [
          { table: 'warehouse.dim_date', written: days },
          { table: 'warehouse.dim_payment_method', written: paymentMethods },
          { table: 'warehouse.dim_customers', written: customers.opened },
          { table: 'warehouse.dim_products', written: products.opened },
          { table: 'warehouse.fact_sales', read: newSales, written: facts },
          { table: 'warehouse.agg_daily_sales', written: aggregates.dailySales },
          { table: 'warehouse.agg_product_performance', written: aggregates.productPerformance },
          { table: 'warehouse.agg_customer_metrics', written: aggregates.customerMetrics },
        ],
        details: {
          effective_date: ctx.runDate,
          dim_customers: {
            ...versionDetails(customers),
            type1_updates: customerTypeOneUpdates,
            segments_recomputed: allSegments ? 'all' : 'touched',
          },
          dim_products: versionDetails(products),
          facts_inserted: facts,
          large_load: largeLoad,
          aggregates_recomputed: recomputeAll ? 'all' : 'touched',
          step_ms: stepMs,
        },
      };
    });
  }
}

/**
 * The SCD type 2 steps of one dimension, in an order that keeps at most one current version per
 * member at every statement: correct late changes in place, close changed and departed versions,
 * then open a version for every active member left without one.
 */
async function applyVersionChanges(
  repo: WarehouseRepository,
  dimension: Dimension,
  runDate: string,
  step: TimedStep,
): Promise<VersionChanges> {
  const name = dimension.replace('-', '_');
  const lateCorrections = await step(`${name}_correct_late`, () =>
    repo.correctLateChanges(dimension, runDate),
  );
  const closedChanged = await step(`${name}_close_changed`, () =>
    repo.closeChangedVersions(dimension, runDate),
  );
  const closedDeparted = await step(`${name}_close_departed`, () =>
    repo.closeDepartedVersions(dimension, runDate),
  );
  const { opened, firstVersions } = await step(`${name}_open_versions`, () =>
    repo.openVersions(dimension, runDate),
  );
  return {
    opened,
    firstVersions,
    closedChanged,
    closedDeparted,
    reopened: opened - firstVersions - closedChanged,
    lateCorrections,
  };
}

function versionDetails(changes: VersionChanges) {
  return {
    versions_opened: changes.opened,
    first_versions: changes.firstVersions,
    versions_closed_changed: changes.closedChanged,
    versions_closed_departed: changes.closedDeparted,
    reopened: changes.reopened,
    late_corrections: changes.lateCorrections,
  };
}

/**
 * A sale dated where the calendar cannot go stops the run before anything is written, naming the
 * transactions: production-etl rejects such dates, so the row was written another way, and it
 * blocks every run until it is corrected in production (facts are never dropped on their own).
 */
function dateOutOfRangeError(rows: readonly DateOutOfRange[], latest: string): PermanentError {
  const total = rows[0]?.total ?? rows.length;
  const named = rows.map((r) => `${r.transaction_id} (${r.transaction_date})`).join(', ');
  const more = total > rows.length ? `; and ${total - rows.length} more` : '';
  return new PermanentError(
    `warehouse.dim_date: ${total} production.transactions row(s) are dated outside the days the ` +
      `calendar can hold (${EARLIEST_BUSINESS_DATE} to ${latest}, the run date + ${MAX_DAYS_AFTER_RUN_DATE} days, ` +
      `beyond the days dim_date already has; infinite dates never): ${named}${more}. ` +
      `Correct or remove them in production.transactions and run again`,
  );
}

function lookupMissError(misses: readonly LookupMiss[]): PermanentError {
  const total = misses[0]?.total ?? misses.length;
  const named = misses.map((m) => {
    const missing = [
      m.date_missing ? `date_key (dim_date has no ${m.transaction_date})` : null,
      m.customer_missing
        ? `customer_key (no dim_customers version of ${m.customer_id} valid on ${m.transaction_date})`
        : null,
      m.product_missing
        ? `product_key (no dim_products version of ${m.product_id} valid on ${m.transaction_date})`
        : null,
      m.payment_method_missing ? `payment_method_key (no dim_payment_method '${m.payment_method}')` : null,
    ].filter((x): x is string => x !== null);
    return `${m.item_id}: ${missing.join(', ')}`;
  });
  const more = total > misses.length ? `; and ${total - misses.length} more` : '';
  return new PermanentError(
    `warehouse.fact_sales: ${total} production.transaction_items row(s) have no dimension key: ${named.join('; ')}${more}`,
  );
}
