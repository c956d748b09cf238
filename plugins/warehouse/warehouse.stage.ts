import {
  PermanentError,
  Stage,
  stepTimer,
  type PipelineStage,
  type StageContext,
  type StageResult,
  EARLIEST_BUSINESS_DATE,
  MAX_DAYS_AFTER_RUN_DATE,
  latestBusinessDate,
} from '@pipeline/kernel';
import { warehouseConfigSchema, type WarehouseSettings } from './warehouse.config.js';
import {
  WarehouseRepository,
  NOTHING_LOADED,
  type FactActions,
  type CalendarBounds,
  type SaleSetAside,
  type LookupMiss,
  type VersionChanges,
} from './warehouse.repository.js';

/** How many items (or transactions) a lookup-miss (or date) error names. */
const MISSES_NAMED = 10;

/**
 * production -> warehouse star schema in one transaction: date and payment method dimensions,
 * SCD type 2 customer and product dimensions derived from production's history by business date,
 * the item-grain fact table kept equal to production's items (appended, and moved, corrected or
 * removed when a date is loaded late or redone), and the aggregates kept equal to a GROUP BY
 * over the facts.
 */
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

      const loadedThrough = await step('load_state', () => repo.loadedThrough());
      const firstLoad = loadedThrough === NOTHING_LOADED;
      const latest = latestBusinessDate(ctx.runDate);
      const bounds = await step('dim_date_range', () => repo.calendarBounds(EARLIEST_BUSINESS_DATE, latest));
      const setAside = await step('sales_set_aside', () => repo.setAsideSales(bounds, MISSES_NAMED));
      const setAsideWarning = setAside.length > 0 ? salesSetAsideWarning(setAside, bounds) : null;
      if (setAsideWarning) {
        ctx.logger.warn(setAsideWarning, {
          sales_set_aside: setAside[0]!.total,
          transactions: setAside.map((s) => `${s.transaction_id} (${s.transaction_date})`),
        });
      }
      const days = await step('dim_date', () => repo.extendDateDimension(bounds));
      const paymentMethods = await step('dim_payment_method', () => repo.addPaymentMethods(loadedThrough));
      ctx.signal.throwIfAborted();

      // SCD type 2 from the history by business date: the members production-etl changed (all
      // of them on a first load) get the versions their history gives, whatever the order in
      // which dates were loaded.
      const dirty = await step('dirty_members', () => repo.collectDirtyMembers(firstLoad));
      const customerVersions = await step('dim_customers', () => repo.deriveVersions('customers'));
      const productVersions = await step('dim_products', () => repo.deriveVersions('products'));
      ctx.signal.throwIfAborted();

      // A first load goes straight from production into fact_sales and computes the aggregates
      // in one pass each; every later load first collects the facts it must insert, move, correct
      // or remove, so that lookup misses are named before anything is written and the aggregates
      // follow the changes only.
      let facts: FactActions;
      let largeLoad: boolean;
      if (firstLoad) {
        // An empty table: dropping and re-adding its keys costs next to nothing, whatever the size.
        largeLoad = true;
        await step('lookup_spans', async () => {
          await repo.noTargets();
          await repo.buildLookupSpans(true);
        });
        await step('analyze_dimensions', () => repo.analyzeDimensions());
        await step('drop_keys_and_indexes', () => repo.dropFactForeignKeysAndIndexes());
        const inserted = await step('insert_facts', () => repo.insertFirstLoadFacts());
        if (inserted === null) throw await namedLookupMisses(repo);
        facts = { read: inserted, insert: inserted, update: 0, delete: 0 };
      } else {
        await step('collect_targets', () => repo.collectTargetItems(loadedThrough));
        await step('lookup_spans', () => repo.buildLookupSpans(false));
        facts = await step('classify_targets', () => repo.classifyTargets());
        const misses = await step('lookup_misses', () => repo.findLookupMisses(MISSES_NAMED));
        if (misses.length > 0) throw lookupMissError(misses);
        ctx.signal.throwIfAborted();

        await step('change_facts', () => repo.changeFacts());
        largeLoad =
          facts.insert > settings.large_load_threshold ||
          (facts.insert >= settings.large_load_min_new_facts &&
            facts.insert >= (await repo.factRowsEstimate()));
        if (largeLoad) await step('drop_keys_and_indexes', () => repo.dropFactForeignKeysAndIndexes());
        await step('insert_facts', () => repo.insertFacts());
      }
      if (largeLoad) {
        await step('add_keys_and_indexes', () => repo.addFactForeignKeysAndIndexes());
        // On a first load the dimensions were analysed before the insert.
        await step('analyze', () => (firstLoad ? repo.analyzeFacts() : repo.analyzeWarehouse()));
      }
      // Versions no longer wanted, now that no fact refers to them.
      const retired = await step('retire_versions', async () => ({
        customers: await repo.retireVersions('customers'),
        products: await repo.retireVersions('products'),
      }));
      ctx.signal.throwIfAborted();

      // Every aggregate row again, from all the facts, on a first load and when the facts were
      // changed by hand since the last run (the product sums were emptied then).
      if (!firstLoad) await step('fact_delta', () => repo.collectFactDelta(loadedThrough));
      const recomputeAll =
        firstLoad || !(await step('aggregates_follow_facts', () => repo.aggregatesFollowFacts()));
      const aggregates = await step('aggregates', async () => {
        if (!recomputeAll) return repo.refreshTouchedAggregates();
        await repo.clearAggregates();
        return repo.computeAllAggregates();
      });

      const allSegments =
        firstLoad ||
        !(await repo.sameSegmentThresholds(settings.high_value_min_spend, settings.medium_value_min_spend));
      const customerTypeOneUpdates = await step('customer_segments', () =>
        repo.applyCustomerSegments(
          settings.high_value_min_spend,
          settings.medium_value_min_spend,
          loadedThrough,
          allSegments,
        ),
      );
      if (facts.delete > 0) await step('trim_dimensions', () => repo.trimDimensions());
      await step('finish', async () => {
        await repo.consumeMemberChanges();
        await repo.saveSalesSetAside();
        await repo.saveLoadState(ctx.runDate);
      });
      await ctx.checkpoint('warehouse:loaded');

      const customers = { membersDerived: dirty.customers, ...customerVersions, retired: retired.customers };
      const products = { membersDerived: dirty.products, ...productVersions, retired: retired.products };
      ctx.logger.info('warehouse loaded', { facts, largeLoad, customers, products });
      return {
        rows: [
          { table: 'warehouse.dim_date', written: days },
          { table: 'warehouse.dim_payment_method', written: paymentMethods },
          {
            table: 'warehouse.dim_customers',
            written: customers.opened + customers.updated + customers.retired,
          },
          { table: 'warehouse.dim_products', written: products.opened + products.updated + products.retired },
          {
            table: 'warehouse.fact_sales',
            read: facts.read,
            written: facts.insert + facts.update + facts.delete,
          },
          { table: 'warehouse.agg_daily_sales', written: aggregates.dailySales },
          { table: 'warehouse.agg_product_performance', written: aggregates.productPerformance },
          { table: 'warehouse.agg_customer_metrics', written: aggregates.customerMetrics },
        ],
        details: {
          business_date: ctx.runDate,
          dim_customers: {
            ...versionDetails(customers),
            type1_updates: customerTypeOneUpdates,
            segments_recomputed: allSegments ? 'all' : 'touched',
          },
          dim_products: versionDetails(products),
          facts_inserted: facts.insert,
          facts_updated: facts.update,
          facts_deleted: facts.delete,
          large_load: largeLoad,
          aggregates_recomputed: recomputeAll ? 'all' : 'touched',
          sales_set_aside: {
            count: setAside[0]?.total ?? 0,
            first: setAside.map((s) => ({
              transaction_id: s.transaction_id,
              transaction_date: s.transaction_date,
            })),
          },
          step_ms: stepMs,
        },
        ...(setAsideWarning ? { warnings: [setAsideWarning] } : {}),
      };
    });
  }
}

/** After a first load's insert missed a lookup: the misses, named the general way. */
async function namedLookupMisses(repo: WarehouseRepository): Promise<PermanentError> {
  await repo.forgetFirstLoadLookups();
  await repo.collectTargetItems(NOTHING_LOADED);
  await repo.buildLookupSpans(false);
  await repo.classifyTargets();
  const misses = await repo.findLookupMisses(MISSES_NAMED);
  return misses.length > 0
    ? lookupMissError(misses)
    : new PermanentError('warehouse.fact_sales: the first load met a NULL in a NOT NULL column');
}

function versionDetails(changes: VersionChanges) {
  return {
    members_derived: changes.membersDerived,
    versions_opened: changes.opened,
    first_versions: changes.firstVersions,
    versions_updated: changes.updated,
    versions_retired: changes.retired,
  };
}

/**
 * Sales dated where the calendar cannot go are set aside, not loaded, and the run goes on:
 * production-etl rejects such dates, so the row was written into production another way, and
 * refusing the run would block every later one until someone corrected it by hand. Named in a
 * warning (the run report, `GET /runs/:id`) and the log, until the row is corrected there.
 */
function salesSetAsideWarning(sales: readonly SaleSetAside[], bounds: CalendarBounds): string {
  const total = sales[0]!.total;
  const named = sales.map((s) => `${s.transaction_id} (${s.transaction_date})`).join(', ');
  const more = total > sales.length ? `; and ${total - sales.length} more` : '';
  return (
    `warehouse.fact_sales: ${total} production.transactions row(s) set aside, dated outside the days the ` +
    `calendar can hold (${bounds.earliest} to ${bounds.latest}: from ${EARLIEST_BUSINESS_DATE}, to the run date + ` +
    `${MAX_DAYS_AFTER_RUN_DATE} days or the days dim_date already has; infinite dates never): ${named}${more}. ` +
    `Their items are not in fact_sales; the first run after they are corrected in production.transactions loads them`
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
      m.cost_missing ? `profit (no cost of ${m.product_id} known on ${m.transaction_date})` : null,
    ].filter((x): x is string => x !== null);
    return `${m.item_id}: ${missing.join(', ')}`;
  });
  const more = total > misses.length ? `; and ${total - misses.length} more` : '';
  return new PermanentError(
    `warehouse.fact_sales: ${total} production.transaction_items row(s) have no dimension key: ${named.join('; ')}${more}`,
  );
}
