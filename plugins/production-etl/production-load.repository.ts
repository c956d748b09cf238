import { EARLIEST_BUSINESS_DATE, latestBusinessDate, sqlFile, type StageTransaction } from '@pipeline/kernel';
import type { ProductionEtlSettings } from './production-etl.config.js';

const sql = (name: string): string => sqlFile(import.meta.url, `sql/${name}`);

export const PRODUCTION_TABLES = ['customers', 'products', 'transactions', 'transaction_items'] as const;
export type ProductionTable = (typeof PRODUCTION_TABLES)[number];

/** Staged rows of one table with one outcome: a reject reason, or the action taken on production. */
export interface OutcomeRow {
  readonly table_name: ProductionTable;
  readonly reason: string | null;
  readonly action:
    'insert' | 'update' | 'reactivate' | 'unchanged' | 'present' | 'correct' | 'take_over' | 'ignored_change';
  readonly row_count: number;
}

export interface TransformationCounts {
  readonly text_trimmed: number;
  readonly name_title_cased: number;
  readonly email_lower_cased: number;
  readonly phone_normalized: number;
  readonly empty_to_null: number;
  readonly profit_margin_derived: number;
  readonly price_category_derived: number;
}

export interface ReconciliationCounts {
  readonly line_totals_corrected: number;
  readonly line_total_ids: string[];
  readonly totals_corrected: number;
  readonly total_ids: string[];
  readonly transactions_without_items: number;
  readonly items_added_to_existing_transactions: number;
}

export interface DimensionWrites {
  /** Members whose state changed (on this date or, for a date loaded late, the next one). */
  readonly membersChanged: number;
  /** Members present on the business date before and missing from this snapshot. */
  readonly deactivated: number;
  /** Production rows inserted or updated (only where the latest business date's state moved). */
  readonly productionRowsWritten: number;
}

/** A key or index of a fact table, with the statements that drop and rebuild it. */
export interface BulkLoadObject {
  readonly kind: 'unique_key' | 'index' | 'foreign_key';
  readonly name: string;
  readonly drop_sql: string;
  readonly create_sql: string;
}

/**
 * The SQL side of the production load, inside the stage's one transaction. Classification builds
 * `etl_*` temporary tables (dropped at commit) holding every staged row, cleansed, with its reject
 * reason or the action it takes; the writes then read only from them.
 */
export class ProductionLoadRepository {
  /** Whether the state before the run's date is read through views (the daily case). */
  private stateBeforeIsView = false;

  constructor(private readonly tx: StageTransaction) {}

  async prepare(runId: string, runDate: string, settings: ProductionEtlSettings): Promise<void> {
    await this.tx.query(sql('delete-run-rejects.sql'), [runId]);
    await this.tx.query(sql('set-work-memory.sql'), [
      `${settings.work_mem_mb}MB`,
      `${settings.maintenance_work_mem_mb}MB`,
    ]);
    await this.tx.query(sql('create-settings.sql'));
    await this.tx.query(sql('insert-settings.sql'), [
      runId,
      runDate,
      settings.price_category.budget_max,
      settings.price_category.mid_max,
      settings.line_total_tolerance,
      EARLIEST_BUSINESS_DATE,
      latestBusinessDate(runDate),
    ]);
    await this.tx.query(sql('analyze-settings.sql'));
  }

  async classifyCustomers(): Promise<void> {
    await this.tx.query(sql('classify-customers.sql'));
    // Each rejection can keep another production email in place; stop when nothing changes.
    while (((await this.tx.query(sql('reject-customer-email-conflicts.sql'))).rowCount ?? 0) > 0);
  }

  async classifyProducts(): Promise<void> {
    await this.tx.query(sql('classify-products.sql'));
  }

  async classifyTransactions(): Promise<void> {
    await this.tx.query(sql('classify-transactions.sql'));
  }

  async classifyTransactionItems(): Promise<void> {
    await this.tx.query(sql('classify-transaction-items.sql'));
  }

  /** Only the tables the outcomes show rejects for are scanned. */
  async recordRejects(outcomes: readonly OutcomeRow[]): Promise<number> {
    const hasRejects = (table: ProductionTable): boolean =>
      outcomes.some((o) => o.table_name === table && o.reason !== null && o.row_count > 0);
    return (
      (await this.tx.query(sql('insert-rejected-rows.sql'), PRODUCTION_TABLES.map(hasRejects))).rowCount ?? 0
    );
  }

  async outcomes(): Promise<OutcomeRow[]> {
    return (await this.tx.query<OutcomeRow & Record<string, unknown>>(sql('outcomes.sql'))).rows;
  }

  async transformations(): Promise<TransformationCounts> {
    const { rows } = await this.tx.query<TransformationCounts & Record<string, unknown>>(
      sql('transformations.sql'),
    );
    return rows[0]!;
  }

  async reconciliation(reportedIdsLimit: number): Promise<ReconciliationCounts> {
    const { rows } = await this.tx.query<ReconciliationCounts & Record<string, unknown>>(
      sql('reconciliation.sql'),
      [reportedIdsLimit],
    );
    return rows[0]!;
  }

  /**
   * Loads the state each member had on the business date before this one (history-before.sql),
   * which classification compares the snapshot with. Before classifying.
   */
  async loadStateBefore(): Promise<void> {
    const { rows } = await this.tx.query<{ in_order: boolean }>('SELECT in_order FROM etl_settings');
    this.stateBeforeIsView = rows[0]!.in_order;
    await this.tx.query(sql(this.stateBeforeIsView ? 'history-before-view.sql' : 'history-before.sql'));
  }

  /** Before commit: the views of the daily case would outlive the transaction. */
  async forgetStateBefore(): Promise<void> {
    if (this.stateBeforeIsView) await this.tx.query(sql('history-before-drop.sql'));
  }

  /**
   * Places the snapshot in the dimension's history and refreshes the production rows of the
   * members whose state changed (README, "Order of runs").
   */
  async writeDimension(dimension: 'customers' | 'products'): Promise<DimensionWrites> {
    const history = dimension === 'customers' ? 'customer-history-write.sql' : 'product-history-write.sql';
    await this.tx.query(sql(history));
    const { rows } = await this.tx.query<{ changed: number; deactivated: number }>(
      `SELECT count(*) FILTER (WHERE changed)::int AS changed,
              count(*) FILTER (WHERE observed = 'absent' AND before = 'present')::int AS deactivated
       FROM etl_${dimension}_states`,
    );
    const refreshed = await this.tx.query(sql(`${dimension}-mirror-refresh.sql`));
    return {
      membersChanged: rows[0]!.changed,
      deactivated: rows[0]!.deactivated,
      productionRowsWritten: refreshed.rowCount ?? 0,
    };
  }

  /**
   * The facts that change other than by insertion, before the inserts: the later dates' values of
   * facts this date takes over (kept as their copies), corrected and taken-over transactions, the
   * transactions this date's input dropped (promoted from another date's copy, or collected for
   * withdrawal), and the lines it dropped (collected; applied by `settleFacts`).
   */
  async updateTransactions(): Promise<{ dropped: number; promoted: number }> {
    await this.tx.query(sql('displaced-copies.sql'));
    await this.tx.query(sql('update-transactions.sql'));
    await this.tx.query(sql('drop-transactions-collect.sql'));
    await this.tx.query(sql('drop-transaction-items-collect.sql'));
    const { rows } = await this.tx.query<{ dropped: number; promoted: number }>(
      `SELECT count(*) FILTER (WHERE copy_date IS NULL)::int AS dropped,
              count(*) FILTER (WHERE copy_date IS NOT NULL)::int AS promoted
       FROM etl_dropped_transactions`,
    );
    return rows[0]!;
  }

  insertTransactions(): Promise<number> {
    return this.rowCount('insert-transactions.sql');
  }

  insertTransactionItems(): Promise<number> {
    return this.rowCount('insert-transaction-items.sql');
  }

  /**
   * After the inserts: corrected and taken-over items, dropped items (promoted or withdrawn),
   * withdrawn transactions, this date's copies of other dates' facts, the totals of every
   * transaction whose lines moved, and the business date itself.
   */
  async settleFacts(): Promise<{ itemsWithdrawn: number; itemsPromoted: number; totalsReconciled: number }> {
    await this.tx.query(sql('update-transaction-items.sql'));
    await this.tx.query(sql('drop-transaction-items.sql'));
    await this.tx.query(sql('withdraw-transactions.sql'));
    await this.tx.query(sql('fact-copies.sql'));
    const totals = await this.rowCount('reconcile-totals.sql');
    await this.tx.query(sql('record-business-date.sql'));
    const { rows } = await this.tx.query<{ withdrawn: number; promoted: number }>(
      `SELECT count(*) FILTER (WHERE copy_date IS NULL)::int AS withdrawn,
              count(*) FILTER (WHERE copy_date IS NOT NULL)::int AS promoted
       FROM etl_dropped_items`,
    );
    return { itemsWithdrawn: rows[0]!.withdrawn, itemsPromoted: rows[0]!.promoted, totalsReconciled: totals };
  }

  async factRowsEstimate(): Promise<number> {
    const { rows } = await this.tx.query<{ estimate: string }>(sql('fact-rows-estimate.sql'));
    return Number(rows[0]?.estimate ?? 0);
  }

  /** In rebuild order; drop them in the reverse order. */
  async bulkLoadObjects(): Promise<BulkLoadObject[]> {
    return (await this.tx.query<BulkLoadObject & Record<string, unknown>>(sql('bulk-load-objects.sql'))).rows;
  }

  async dropObject(object: BulkLoadObject): Promise<void> {
    await this.tx.query(object.drop_sql);
  }

  /** Rebuilding a key validates every row in one set-based check; a violation fails the load. */
  async rebuildObject(object: BulkLoadObject): Promise<void> {
    await this.tx.query(object.create_sql);
  }

  async analyzeProduction(): Promise<void> {
    await this.tx.query(sql('analyze-production.sql'));
  }

  private async rowCount(file: string): Promise<number> {
    return (await this.tx.query(sql(file))).rowCount ?? 0;
  }
}
