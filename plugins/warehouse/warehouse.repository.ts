import { LOCK_NAMESPACE, citusPresent, sqlFile, type StageTransaction } from '@pipeline/kernel';

/**
 * Serialises warehouse loads (same key space as the kernel's locks, see libs/database): two
 * runs that collide take turns, so the second sees the first's versions and facts. The partial
 * unique indexes on current versions stay the last line of defence.
 */
export const WAREHOUSE_LOAD_LOCK_ID = 0x57_48_53_45; // "WHSE"

const sql = (name: string): string => sqlFile(import.meta.url, `sql/${name}.sql`);

/**
 * A file's statements one by one (each ends a line with `;`; the files holding them have no
 * function bodies). Citus propagates a DDL statement to the shards with the text it was sent in,
 * so a file of several is refused there as a whole.
 */
function statements(text: string): string[] {
  return text
    .split(/;[ \t]*\n/)
    .map((s) => s.replace(/^(\s*--[^\n]*\n)*/, '').trim())
    .filter((s) => s.length > 0 && !/^(--[^\n]*\n?\s*)*$/.test(s))
    .map((s) => s.replace(/;\s*$/, ''));
}

/** The mark of a first load: every production row counts as new. */
export const NOTHING_LOADED = '-infinity';

/** SQLSTATE not_null_violation: a NULL key reached fact_sales (a lookup miss). */
const NOT_NULL_VIOLATION = '23502';

/** The SCD type 2 dimensions, by the prefix of their SQL files. */
export type Dimension = 'customers' | 'products';

export interface VersionChanges {
  /** Members whose versions were derived again from their history. */
  readonly membersDerived: number;
  /** Versions inserted (first versions included). */
  readonly opened: number;
  readonly firstVersions: number;
  /** Held versions whose end, current flag or tracked attributes moved. */
  readonly updated: number;
  /** Held versions no longer wanted (a date loaded late joined them with another). */
  readonly retired: number;
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
  readonly cost_missing: boolean;
  readonly total: number;
}

/** How many target facts each action has (fact-targets.sql). */
export interface FactActions {
  readonly read: number;
  readonly insert: number;
  readonly update: number;
  readonly delete: number;
}

/** The days dim_date may hold (dim-date-bounds.sql). */
export interface CalendarBounds {
  readonly earliest: string;
  readonly latest: string;
}

/** A sale set aside (sales-set-aside-named.sql), with how many there are in all. */
export interface SaleSetAside {
  readonly transaction_id: string;
  readonly transaction_date: string;
  readonly total: number;
}

/** The warehouse's SQL, one business step per method, all on the stage's transaction. */
export class WarehouseRepository {
  private citus: Promise<boolean> | null = null;

  constructor(private readonly tx: StageTransaction) {}

  /**
   * Whether the warehouse is laid out over a Citus cluster (migration 1764100030000): the
   * statements are the same, but ANALYZE of its distributed and reference tables is left to each
   * node (see analyzeDimensions).
   */
  private onCitus(): Promise<boolean> {
    this.citus ??= citusPresent(this.tx);
    return this.citus;
  }

  /**
   * For this transaction only: reset at commit or rollback. `warehouse.fact_changes_logged` tells
   * the triggers that mark derived data stale on UPDATE or DELETE of facts (migrations 0012, 0013,
   * 0020) that this transaction logs its changes itself (warehouse.fact_changes) and keeps the sums.
   */
  async setSessionSettings(workMemMb: number, randomPageCost: number): Promise<void> {
    await this.tx.query(sql('session-settings'), [`${workMemMb}MB`, String(randomPageCost)]);
    await this.tx.query(`SELECT set_config('warehouse.fact_changes_logged', 'on', true)`);
  }

  async lockWarehouse(): Promise<void> {
    await this.tx.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, WAREHOUSE_LOAD_LOCK_ID]);
  }

  /**
   * When the latest run started, or NOTHING_LOADED on a first load (no run yet, or no fact left):
   * production rows created or changed before it are in the warehouse (README, "What counts as new").
   */
  async loadedThrough(): Promise<string> {
    const { rows } = await this.tx.query<{ loaded_through: string }>(sql('load-state-read'));
    return rows[0]?.loaded_through ?? NOTHING_LOADED;
  }

  /** Records where the next run reads from, and the business date the warehouse is as of. */
  async saveLoadState(runDate: string): Promise<void> {
    await this.tx.query(sql('load-state-save'), [runDate]);
  }

  /** The days dim_date may hold: [earliest, latest], widened to the days it already holds. */
  async calendarBounds(earliest: string, latest: string): Promise<CalendarBounds> {
    const { rows } = await this.tx.query<CalendarBounds>(sql('dim-date-bounds'), [earliest, latest]);
    return rows[0]!;
  }

  /**
   * Sets aside the production sales dated outside `bounds` (infinite dates included) for this
   * run; returns the first `limit` of them, each with the total.
   */
  async setAsideSales(bounds: CalendarBounds, limit: number): Promise<SaleSetAside[]> {
    await this.tx.query(sql('sales-set-aside-collect'), [bounds.earliest, bounds.latest]);
    const { rows } = await this.tx.query<SaleSetAside>(sql('sales-set-aside-named'), [limit]);
    return rows;
  }

  /** Keeps this run's sales set aside for the next run (`warehouse.sales_set_aside`). */
  async saveSalesSetAside(): Promise<void> {
    for (const statement of statements(sql('sales-set-aside-save'))) await this.tx.query(statement);
  }

  /** Returns the days added. */
  async extendDateDimension(bounds: CalendarBounds): Promise<number> {
    return this.count(sql('dim-date-extend'), [bounds.earliest, bounds.latest]);
  }

  async addPaymentMethods(loadedThrough: string): Promise<number> {
    return this.count(sql('dim-payment-method-add'), [loadedThrough]);
  }

  /** The members to derive again (all of them on a first load); returns how many per dimension. */
  async collectDirtyMembers(all: boolean): Promise<Record<Dimension, number>> {
    await this.tx.query(sql('dirty-members-collect'), [all]);
    await this.tx.query('ALTER TABLE warehouse_dirty_members ADD PRIMARY KEY (dimension, member_id)');
    await this.tx.query('ANALYZE warehouse_dirty_members');
    const { rows } = await this.tx.query<{ customers: number; products: number }>(
      `SELECT count(*) FILTER (WHERE dimension = 'customers')::int AS customers,
              count(*) FILTER (WHERE dimension = 'products')::int AS products
       FROM warehouse_dirty_members`,
    );
    return rows[0]!;
  }

  /**
   * Derives the dirty members' versions from their history and brings the dimension to them:
   * every version that stays keeps its surrogate key. Versions no longer wanted stay until the
   * facts that refer to them have moved (`retireVersions`).
   */
  async deriveVersions(dimension: Dimension): Promise<Omit<VersionChanges, 'membersDerived' | 'retired'>> {
    await this.tx.query(sql(`dim-${dimension}-derive`));
    await this.tx.query(sql(`dim-${dimension}-close`));
    const { rows } = await this.tx.query<{ opened: number; first_versions: number }>(
      sql(`dim-${dimension}-open`),
    );
    const updated = await this.count(sql(`dim-${dimension}-update`));
    return { opened: rows[0]?.opened ?? 0, firstVersions: rows[0]?.first_versions ?? 0, updated };
  }

  async retireVersions(dimension: Dimension): Promise<number> {
    const { rows } = await this.tx.query<{ keys: string[] }>(sql(`dim-${dimension}-retire-keys`));
    const keys = rows[0]?.keys ?? [];
    return keys.length === 0 ? 0 : this.count(sql(`dim-${dimension}-retire`), [keys]);
  }

  /**
   * The spans a sale's keys and cost are looked up in (lookup-spans.sql, product-costs.sql), for
   * the members of the target sales, or of every sale on a first load.
   */
  async buildLookupSpans(all: boolean): Promise<void> {
    await this.tx.query(sql('lookup-spans'), [all]);
    await this.tx.query(sql('lookup-spans-products'), [all]);
    await this.tx.query(sql('product-costs'), [all]);
    await this.tx.query('ANALYZE warehouse_customer_spans, warehouse_product_spans, warehouse_product_costs');
  }

  /** A first load reads every item straight into fact_sales; the lookups still name the target tables. */
  async noTargets(): Promise<void> {
    await this.tx.query(sql('fact-targets-none'));
  }

  /** After a first load's insert missed a lookup: its lookup tables, before the general path builds them again. */
  async forgetFirstLoadLookups(): Promise<void> {
    await this.tx.query(
      'DROP TABLE warehouse_target_sales, warehouse_customer_spans, warehouse_product_spans, warehouse_product_costs',
    );
  }

  /** The items whose facts this run may write (README, "What counts as new"). */
  async collectTargetItems(loadedThrough: string): Promise<void> {
    await this.tx.query(sql('fact-targets-collect'), [loadedThrough]);
    await this.tx.query('ANALYZE warehouse_target_items');
    await this.tx.query(sql('fact-target-sales'));
    await this.tx.query('ANALYZE warehouse_target_sales');
  }

  /** What each target fact must be and what to do about it. */
  async classifyTargets(): Promise<FactActions> {
    await this.tx.query(sql('fact-targets'));
    const { rows } = await this.tx.query<FactActions>(
      `SELECT count(*)::int AS read,
              count(*) FILTER (WHERE action = 'insert')::int AS insert,
              count(*) FILTER (WHERE action = 'update')::int AS update,
              count(*) FILTER (WHERE action = 'delete')::int AS delete
       FROM warehouse_fact_targets`,
    );
    return rows[0]!;
  }

  async findLookupMisses(limit: number): Promise<LookupMiss[]> {
    const { rows } = await this.tx.query<LookupMiss>(sql('fact-lookup-misses'), [limit]);
    return rows;
  }

  /** Logs the facts about to change as they are, then deletes and updates them. */
  async changeFacts(): Promise<{ updated: number; deleted: number }> {
    await this.tx.query(sql('fact-changes-log'));
    const deleted = await this.count(sql('fact-sales-delete'));
    const updated = await this.count(sql('fact-sales-update'));
    return { updated, deleted };
  }

  async insertFacts(): Promise<number> {
    return this.count(sql('fact-sales-insert'));
  }

  /** Facts already loaded, from the planner's statistics (a count would scan them all). */
  async factRowsEstimate(): Promise<number> {
    const { rows } = await this.tx.query<{ estimate: string }>(sql('fact-sales-rows-estimate'));
    return Number(rows[0]?.estimate ?? 0);
  }

  /** Keys as defined here (fact-sales-unique-keys.sql), dropped by dropFactForeignKeysAndIndexes. */
  private droppedKeys: { name: string; definition: string }[] = [];

  async dropFactForeignKeysAndIndexes(): Promise<void> {
    const { rows } = await this.tx.query<{ name: string; definition: string }>(sql('fact-sales-unique-keys'));
    this.droppedKeys = rows;
    for (const statement of statements(sql('fact-sales-drop-foreign-keys-and-indexes'))) {
      await this.tx.query(statement);
    }
  }

  async addFactForeignKeysAndIndexes(): Promise<void> {
    for (const key of this.droppedKeys) {
      // Names and definitions come from pg_constraint (pg_get_constraintdef), not from input.
      await this.tx.query(`ALTER TABLE warehouse.fact_sales ADD CONSTRAINT ${key.name} ${key.definition}`);
    }
    this.droppedKeys = [];
    for (const statement of statements(sql('fact-sales-add-foreign-keys-and-indexes'))) {
      await this.tx.query(statement);
    }
  }

  /**
   * First load: every production item straight into fact_sales. Returns the facts inserted, or
   * null when a lookup missed; the statement is then undone (to a savepoint), nothing else, so
   * the caller can name the misses through the general path.
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

  /**
   * Segments of the customers whose segment or registration date can have changed since
   * `loadedThrough`, or of every customer with `all`; then written to every version of them
   * (type 1). Returns the versions updated.
   */
  async applyCustomerSegments(
    highValueMinSpend: number,
    mediumValueMinSpend: number,
    loadedThrough: string,
    all: boolean,
  ): Promise<number> {
    const thresholds = [highValueMinSpend, mediumValueMinSpend];
    await this.tx.query(sql('customer-segment-create'));
    if (all) {
      await this.tx.query(sql('customer-segment-fill'), thresholds);
      await this.tx.query(sql('customer-segment-thresholds-save'), thresholds);
    } else {
      await this.tx.query(sql('customer-segment-fill-touched'), [...thresholds, loadedThrough]);
    }
    return this.count(sql('dim-customers-type1'));
  }

  /** Whether this run's segment thresholds are those the warehouse's segments were computed with. */
  async sameSegmentThresholds(highValueMinSpend: number, mediumValueMinSpend: number): Promise<boolean> {
    const { rows } = await this.tx.query<{ same: boolean }>(sql('customer-segment-thresholds-read'), [
      highValueMinSpend,
      mediumValueMinSpend,
    ]);
    return rows[0]?.same === true;
  }

  /** The facts' changes as the aggregates see them (fact-delta.sql). */
  async collectFactDelta(loadedThrough: string): Promise<void> {
    await this.tx.query(sql('fact-delta'), [loadedThrough]);
    await this.tx.query('ANALYZE warehouse_fact_delta');
  }

  /**
   * Whether the aggregates can follow the facts' changes. The triggers of migrations 0013 and
   * 0020 empty the product sums when facts change other than through this stage (an UPDATE or a
   * DELETE by hand, such as an erasure request, a TRUNCATE); rows of untouched keys may be wrong
   * then.
   */
  async aggregatesFollowFacts(): Promise<boolean> {
    const { rows } = await this.tx.query<{ known: boolean }>(sql('product-performance-sums-known'));
    return rows[0]?.known === true;
  }

  /** Before every row is recomputed: no aggregate row is kept, nor the product sums. */
  async clearAggregates(): Promise<void> {
    await this.tx.query(sql('agg-all-delete'));
  }

  /** Every aggregate row from all the facts (a first load, or facts changed by hand). Returns rows written. */
  async computeAllAggregates(): Promise<{
    dailySales: number;
    productPerformance: number;
    customerMetrics: number;
  }> {
    const dailySales = await this.count(sql('agg-daily-sales-insert-all'));
    await this.tx.query(sql('product-performance-sums-insert-all'));
    const productPerformance = await this.count(sql('agg-product-performance-insert-all'));
    const customerMetrics = await this.count(sql('agg-customer-metrics-insert-all'));
    return { dailySales, productPerformance, customerMetrics };
  }

  /**
   * The aggregate rows of the keys the facts' changes touched: product sums follow the changes
   * (nothing older is read), days and recounted customer versions are recomputed from their facts.
   * Returns the keys refreshed.
   */
  async refreshTouchedAggregates(): Promise<{
    dailySales: number;
    productPerformance: number;
    customerMetrics: number;
  }> {
    await this.tx.query(sql('product-performance-sums-apply'));
    await this.tx.query(sql('agg-product-performance-refresh'));
    await this.tx.query(sql('agg-daily-sales-refresh'));
    await this.tx.query(sql('agg-customer-metrics-refresh'));
    const { rows } = await this.tx.query<{ days: number; products: number; customers: number }>(
      `SELECT count(DISTINCT date_key)::int AS days, count(DISTINCT product_key)::int AS products,
              count(DISTINCT customer_key)::int AS customers
       FROM warehouse_fact_delta`,
    );
    const r = rows[0]!;
    return { dailySales: r.days, productPerformance: r.products, customerMetrics: r.customers };
  }

  /** After facts were removed: days and payment methods nothing refers to any more. */
  async trimDimensions(): Promise<void> {
    const { rows } = await this.tx.query<{ date_keys: number[]; payment_method_keys: number[] }>(
      sql('dimensions-trim-keys'),
    );
    const { date_keys: days = [], payment_method_keys: methods = [] } = rows[0] ?? {};
    if (days.length > 0) await this.tx.query(sql('dimensions-trim-dates'), [days]);
    if (methods.length > 0) await this.tx.query(sql('dimensions-trim-payment-methods'), [methods]);
  }

  /** The inbox rows this run applied. */
  async consumeMemberChanges(): Promise<void> {
    await this.tx.query(sql('member-changes-consume'));
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
    // On a Citus cluster the rows live in shards, which each node's autovacuum analyses; an
    // ANALYZE of the coordinator's tables inside this transaction, after it has read the
    // coordinator's copy of a reference table, is refused (Citus runs it over every node).
    if (await this.onCitus()) return;
    await this.tx.query(
      'ANALYZE warehouse.dim_customers, warehouse.dim_products, warehouse.dim_date, warehouse.dim_payment_method',
    );
  }

  /** Statistics of fact_sales after a large load, for the statements and stages that read it next. */
  async analyzeFacts(): Promise<void> {
    if (await this.onCitus()) return; // as in analyzeDimensions
    await this.tx.query('ANALYZE warehouse.fact_sales');
  }

  private async count(text: string, params?: readonly unknown[]): Promise<number> {
    const result = await this.tx.query(text, params);
    return result.rowCount ?? 0;
  }
}
