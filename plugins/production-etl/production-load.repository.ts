import { EARLIEST_BUSINESS_DATE, latestBusinessDate } from '../../libs/contract/index.js';
import { sqlFile, type StageTransaction } from '../../libs/kernel/index.js';
import type { ProductionEtlSettings } from './production-etl.config.js';

const sql = (name: string): string => sqlFile(import.meta.url, `sql/${name}`);

export const PRODUCTION_TABLES = ['customers', 'products', 'transactions', 'transaction_items'] as const;
export type ProductionTable = (typeof PRODUCTION_TABLES)[number];

/** Staged rows of one table with one outcome: a reject reason, or the action taken on production. */
export interface OutcomeRow {
  readonly table_name: ProductionTable;
  readonly reason: string | null;
  readonly action: 'insert' | 'update' | 'reactivate' | 'unchanged' | 'present' | 'ignored_change';
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
  readonly inserted: number;
  readonly updated: number;
  readonly deactivated: number;
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

  async writeCustomers(): Promise<DimensionWrites> {
    return {
      inserted: await this.rowCount('insert-customers.sql'),
      updated: await this.rowCount('update-customers.sql'),
      deactivated: await this.rowCount('deactivate-customers.sql'),
    };
  }

  async writeProducts(): Promise<DimensionWrites> {
    return {
      inserted: await this.rowCount('insert-products.sql'),
      updated: await this.rowCount('update-products.sql'),
      deactivated: await this.rowCount('deactivate-products.sql'),
    };
  }

  insertTransactions(): Promise<number> {
    return this.rowCount('insert-transactions.sql');
  }

  insertTransactionItems(): Promise<number> {
    return this.rowCount('insert-transaction-items.sql');
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
