import { LOCK_NAMESPACE } from '../../libs/database/index.js';
import { sqlFile, type StageTransaction } from '../../libs/kernel/index.js';

/**
 * Serialises warehouse loads (same key space as the kernel's locks, see libs/database): two
 * runs that collide take turns, so the second sees the first's versions and facts. The partial
 * unique indexes on current versions stay the last line of defence.
 */
export const WAREHOUSE_LOAD_LOCK_ID = 0x57_48_53_45; // "WHSE"

const sql = (name: string): string => sqlFile(import.meta.url, `sql/${name}.sql`);

/** `factsLoadedSince` while fact_sales is empty: every production row counts as new. */
export const NO_FACTS_YET = '-infinity';

/** The aggregate tables, by the prefix of their SQL files. */
export type AggregateTable = 'agg-daily-sales' | 'agg-product-performance' | 'agg-customer-metrics';

/** SQLSTATE not_null_violation: a NULL key reached fact_sales (a lookup miss). */
const NOT_NULL_VIOLATION = '23502';

/** The SCD type 2 dimensions, by the prefix of their SQL files. */
export type Dimension = 'dim-customers' | 'dim-products';

export interface VersionChanges {
  /** Versions inserted: first versions + successors of changed versions + returning members. */
  readonly opened: number;
  readonly firstVersions: number;
  /** Current versions closed because a tracked attribute changed. */
  readonly closedChanged: number;
  /** Current versions closed because the member left the source. */
  readonly closedDeparted: number;
  /** Members that had only closed versions and came back. */
  readonly reopened: number;
  /** Current versions corrected in place by a change dated on or before their start. */
  readonly lateCorrections: number;
}

export interface LookupMiss {
  readonly item_id: string;
  readonly transaction_date: string;
  readonly customer_id: string;
  readonly product_id: string;
  readonly payment_method: string;
  readonly date_missing: boolean;
  readonly customer_missing: boolean;
  readonly product_missing: boolean;
  readonly payment_method_missing: boolean;
  readonly total: number;
}

export interface DateOutOfRange {
  readonly transaction_id: string;
  readonly transaction_date: string;
  readonly total: number;
}

/** The warehouse's SQL, one business step per method, all on the stage's transaction. */
export class WarehouseRepository {
  constructor(private readonly tx: StageTransaction) {}

  /** For this transaction only: reset at commit or rollback. */
  async setSessionSettings(workMemMb: number, randomPageCost: number): Promise<void> {
    await this.tx.query(sql('session-settings'), [`${workMemMb}MB`, String(randomPageCost)]);
  }

  async lockWarehouse(): Promise<void> {
    await this.tx.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, WAREHOUSE_LOAD_LOCK_ID]);
  }

  /**
   * Production transactions dated where dim_date cannot go: infinite, or outside both
   * [earliest, latest] and the days it already holds (the first `limit`, with the total).
   */
  async findDatesOutOfRange(earliest: string, latest: string, limit: number): Promise<DateOutOfRange[]> {
    const { rows } = await this.tx.query<DateOutOfRange>(sql('dim-date-out-of-range'), [
      earliest,
      latest,
      limit,
    ]);
    return rows;
  }

  /** Returns the days added. */
  async extendDateDimension(): Promise<number> {
    return this.count(sql('dim-date-extend'));
  }

  /**
   * When the latest run that added facts started, or '-infinity' while there are none: the
   * production rows created before it are already in the warehouse (README, "What counts as new").
   */
  async factsLoadedSince(): Promise<string> {
    const { rows } = await this.tx.query<{ since: string | null }>(sql('facts-loaded-since'));
    return rows[0]?.since ?? NO_FACTS_YET;
  }

  async addPaymentMethods(loadedSince: string): Promise<number> {
    return this.count(sql('dim-payment-method-add'), [loadedSince]);
  }

  /**
   * Segments of the customers whose segment or registration date can have changed since
   * `loadedSince`, or of every customer on a first load and when the thresholds changed.
   * Returns whether every customer was recomputed.
   */
  async computeCustomerSegments(
    highValueMinSpend: number,
    mediumValueMinSpend: number,
    loadedSince: string,
  ): Promise<boolean> {
    const thresholds = [highValueMinSpend, mediumValueMinSpend];
    await this.tx.query(sql('customer-segment-create'));
    const { rows } = await this.tx.query<{ same: boolean }>(
      sql('customer-segment-thresholds-read'),
      thresholds,
    );
    const all = loadedSince === NO_FACTS_YET || rows[0]?.same !== true;
    if (all) {
      await this.tx.query(sql('customer-segment-fill'), thresholds);
      await this.tx.query(sql('customer-segment-thresholds-save'), thresholds);
    } else {
      await this.tx.query(sql('customer-segment-fill-touched'), [...thresholds, loadedSince]);
    }
    return all;
  }

  /**
   * The production customers and products created or changed since `loadedSince`: the members the
   * SCD type 2 steps and the segment recomputation look at (README, "SCD type 2 rules").
   */
  async collectMemberChanges(loadedSince: string): Promise<void> {
    await this.tx.query(sql('dim-customers-changes-collect'), [loadedSince]);
    await this.tx.query(sql('dim-products-changes-collect'), [loadedSince]);
    // Temporary tables have no statistics; a few hundred rows a day, every member on a first load.
    await this.tx.query('ANALYZE warehouse_customer_changes, warehouse_product_changes');
  }

  /** Returns the customer versions updated (segment or registration date). */
  async applyCustomerTypeOneAttributes(): Promise<number> {
    return this.count(sql('dim-customers-apply-type1'));
  }

  /** Collects the items not yet in fact_sales with their keys; returns how many. */
  async collectNewSales(loadedSince: string): Promise<number> {
    const result = await this.tx.query(sql('new-sales-collect'), [loadedSince]);
    // A temporary table has no statistics; without them the aggregate refresh plans badly.
    await this.tx.query('ANALYZE warehouse_new_sales');
    return result.rowCount ?? 0;
  }

  async findLookupMisses(limit: number): Promise<LookupMiss[]> {
    const { rows } = await this.tx.query<LookupMiss>(sql('new-sales-lookup-misses'), [limit]);
    return rows;
  }

  /** Facts already loaded, from the planner's statistics (a count would scan them all). */
  async factRowsEstimate(): Promise<number> {
    const { rows } = await this.tx.query<{ estimate: string }>(sql('fact-sales-rows-estimate'));
    return Number(rows[0]?.estimate ?? 0);
  }

  async dropFactForeignKeysAndIndexes(): Promise<void> {
    await this.tx.query(sql('fact-sales-drop-foreign-keys-and-indexes'));
  }

  async addFactForeignKeysAndIndexes(): Promise<void> {
    await this.tx.query(sql('fact-sales-add-foreign-keys-and-indexes'));
  }

  /**
   * First load: every production item straight into fact_sales. Returns the facts inserted, or
   * null when a lookup missed; the statement is then undone (to a savepoint), nothing else, so
   * the caller can name the misses through `collectNewSales` and `findLookupMisses`.
   */
  async insertFirstLoadFacts(): Promise<number | null> {
    await this.tx.query('SAVEPOINT warehouse_first_load');
    try {
      const inserted = await this.count(sql('fact-sales-insert-first-load'));
      await this.tx.query('RELEASE SAVEPOINT warehouse_first_load');
      return inserted;
    } catch (error) {
      if ((error as { code?: unknown }).code !== NOT_NULL_VIOLATION) throw error;
      await this.tx.query('ROLLBACK TO SAVEPOINT warehouse_first_load');
      return null;
    }
  }

  async insertFacts(): Promise<number> {
    return this.count(sql('fact-sales-insert'));
  }

  /**
   * Recomputes the rows of one aggregate for the keys the new facts touch. Facts are only
   * appended, so rows of other keys cannot have changed; on a first load the touched keys are all
   * of them. Returns rows written.
   */
  async refreshAggregate(table: Exclude<AggregateTable, 'agg-customer-metrics'>): Promise<number> {
    await this.tx.query(sql(`${table}-delete`));
    return this.count(sql(`${table}-insert`));
  }

  /**
   * Whether the aggregates can be kept by the keys new facts touch. The trigger of migration 0013
   * empties the product sums when facts change other than by appending (an UPDATE, a DELETE such
   * as an erasure request, a TRUNCATE); rows of keys that no new fact touches may be wrong then.
   */
  async aggregatesFollowFacts(): Promise<boolean> {
    const { rows } = await this.tx.query<{ known: boolean }>(sql('product-performance-sums-known'));
    return rows[0]?.known === true;
  }

  /**
   * agg_product_performance, derived from per-version sums (migration 0013). A daily run adds only
   * the facts it inserted to the sums and derives the rows of the versions they touch: the facts
   * of a product lie all over fact_sales, and re-reading them was the slowest read of a daily run
   * on a cold cache. With `all` (a first load, or facts that changed other than by appending;
   * after `clearAggregates`, which empties the sums too), it sums every fact and derives every
   * row. Returns rows written.
   */
  async refreshProductPerformance(all: boolean): Promise<number> {
    if (!all) {
      await this.tx.query(sql('product-performance-sums-add'));
      return this.refreshAggregate('agg-product-performance');
    }
    await this.tx.query(sql('product-performance-sums-insert-all'));
    return this.computeAggregate('agg-product-performance');
  }

  /** Before every row is recomputed: no aggregate row is kept, nor the product sums. */
  async clearAggregates(): Promise<void> {
    await this.tx.query(sql('agg-all-delete'));
  }

  /**
   * agg_customer_metrics for the customer versions the new facts touch: each adds the facts this
   * run inserted to its row (`loadedSince`: the start of the latest run that added facts). A
   * customer's facts lie all over fact_sales, and re-reading them was one of the slow reads of a
   * daily run on a cold cache. A version that a new line of an older transaction touches is
   * recounted from all its facts instead, so that no transaction counts twice. With `all` (as for
   * `refreshProductPerformance`), every row from all the facts. Returns rows written.
   */
  async refreshCustomerMetrics(all: boolean, loadedSince: string): Promise<number> {
    if (all) return this.computeAggregate('agg-customer-metrics');
    await this.tx.query(sql('agg-customer-metrics-recount-collect'), [loadedSince]);
    // A temporary table has no statistics; usually empty, and analysed as such.
    await this.tx.query('ANALYZE warehouse_recount_customers');
    await this.tx.query(sql('agg-customer-metrics-recount-delete'));
    const recounted = await this.count(sql('agg-customer-metrics-recount-insert'));
    return recounted + (await this.count(sql('agg-customer-metrics-add')));
  }

  /** One aggregate over every fact, in one pass. Returns rows written. */
  async computeAggregate(table: AggregateTable): Promise<number> {
    return this.count(sql(`${table}-insert-all`));
  }

  /** Fresh statistics after a large load, so the aggregate refresh and later queries plan well. */
  async analyzeWarehouse(): Promise<void> {
    await this.analyzeDimensions();
    await this.analyzeFacts();
  }

  /**
   * Statistics of the dimensions a first load has just filled: without them the fact insert's
   * plan hashed the 300,000 items instead of the 5,000 product versions (measured 0.2-0.4 s more).
   */
  async analyzeDimensions(): Promise<void> {
    await this.tx.query(
      'ANALYZE warehouse.dim_customers, warehouse.dim_products, warehouse.dim_date, warehouse.dim_payment_method',
    );
  }

  /** Statistics of fact_sales after a large load, for the statements and stages that read it next. */
  async analyzeFacts(): Promise<void> {
    await this.tx.query('ANALYZE warehouse.fact_sales');
  }

  /** Corrects current versions in place for changes effective on or before their start. */
  async correctLateChanges(dimension: Dimension, runDate: string): Promise<number> {
    return this.count(sql(`${dimension}-correct-late`), [runDate]);
  }

  /** Closes the current versions whose tracked attributes changed. */
  async closeChangedVersions(dimension: Dimension, runDate: string): Promise<number> {
    return this.count(sql(`${dimension}-close-changed`), [runDate]);
  }

  /** Closes the current versions of members that left the source. */
  async closeDepartedVersions(dimension: Dimension, runDate: string): Promise<number> {
    return this.count(sql(`${dimension}-close-departed`), [runDate]);
  }

  /** Opens a current version for every active member without one. */
  async openVersions(
    dimension: Dimension,
    runDate: string,
  ): Promise<{ opened: number; firstVersions: number }> {
    const { rows } = await this.tx.query<{ opened: number; first_versions: number }>(
      sql(`${dimension}-open-versions`),
      [runDate],
    );
    return { opened: rows[0]?.opened ?? 0, firstVersions: rows[0]?.first_versions ?? 0 };
  }

  private async count(text: string, params?: readonly unknown[]): Promise<number> {
    const result = await this.tx.query(text, params);
    return result.rowCount ?? 0;
  }
}
