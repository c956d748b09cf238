import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  DimensionWrites,
  OutcomeRow,
  ProductionTable,
  ReconciliationCounts,
  TransformationCounts,
} from './production-load.repository.js';

export const SUMMARY_FILE = 'transformation_summary.json';

/** What happened to one dimension's staged rows. `records_out` = accepted rows, now mirrored in production. */
export interface DimensionSummary {
  readonly records_in: number;
  readonly records_out: number;
  readonly rejected: number;
  readonly inserted: number;
  readonly updated: number;
  readonly reactivated: number;
  readonly unchanged: number;
  /** Production rows whose id left the staged snapshot this run (kept, marked inactive). */
  readonly deactivated: number;
  readonly reject_reasons: Readonly<Record<string, number>>;
}

/** What happened to one fact table's staged rows. `records_out` = accepted rows (new or already loaded). */
export interface FactSummary {
  readonly records_in: number;
  readonly records_out: number;
  readonly rejected: number;
  readonly inserted: number;
  readonly already_present: number;
  /** Already loaded with other values: facts are immutable, so the staged change is not applied. */
  readonly ignored_changed_facts: number;
  readonly reject_reasons: Readonly<Record<string, number>>;
}

export interface TransformationSummary {
  readonly run_id: string;
  readonly run_date: string;
  readonly tables: {
    readonly customers: DimensionSummary;
    readonly products: DimensionSummary;
    readonly transactions: FactSummary;
    readonly transaction_items: FactSummary;
  };
  readonly rejected_total: number;
  readonly ignored_changed_facts: number;
  readonly transformations: ReadonlyArray<{
    readonly name: string;
    readonly description: string;
    readonly rows_affected: number;
  }>;
  readonly reconciliation: {
    readonly line_totals_corrected: number;
    readonly line_total_corrected_item_ids: readonly string[];
    readonly transaction_totals_corrected: number;
    readonly total_corrected_transaction_ids: readonly string[];
    readonly new_transactions_without_items: number;
    readonly items_added_to_existing_transactions: number;
  };
  readonly load: {
    readonly new_fact_rows: number;
    /** Keys and indexes of the fact tables were set aside and rebuilt; tables analyzed. */
    readonly bulk_load: boolean;
    readonly unique_keys_rebuilt: readonly string[];
    readonly foreign_keys_revalidated: readonly string[];
    readonly indexes_rebuilt: readonly string[];
  };
  readonly settings: {
    readonly price_category: { readonly budget_max: number; readonly mid_max: number };
    readonly line_total_tolerance: number;
    readonly bulk_load: { readonly min_new_rows: number; readonly min_share_of_existing: number };
  };
  /** Wall time per step of the load (the transaction's commit is in duration_ms only). */
  readonly step_ms: Readonly<Record<string, number>>;
  readonly duration_ms: number;
}

function rowsOf(outcomes: readonly OutcomeRow[], table: ProductionTable): OutcomeRow[] {
  return outcomes.filter((o) => o.table_name === table);
}

function sum(rows: readonly OutcomeRow[], accept: (row: OutcomeRow) => boolean): number {
  return rows.filter(accept).reduce((total, row) => total + row.row_count, 0);
}

function reasons(rows: readonly OutcomeRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows)
    if (row.reason !== null) counts[row.reason] = (counts[row.reason] ?? 0) + row.row_count;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Counts of the staged rows as classified, before any write. */
export function expectedWrites(
  outcomes: readonly OutcomeRow[],
  table: ProductionTable,
): { inserted: number; updated: number } {
  const rows = rowsOf(outcomes, table).filter((r) => r.reason === null);
  return {
    inserted: sum(rows, (r) => r.action === 'insert'),
    updated: sum(rows, (r) => r.action === 'update' || r.action === 'reactivate'),
  };
}

export function dimensionSummary(
  outcomes: readonly OutcomeRow[],
  table: 'customers' | 'products',
  writes: DimensionWrites,
): DimensionSummary {
  const rows = rowsOf(outcomes, table);
  const accepted = (action: OutcomeRow['action']) => (r: OutcomeRow) =>
    r.reason === null && r.action === action;
  const recordsIn = sum(rows, () => true);
  const rejected = sum(rows, (r) => r.reason !== null);
  return {
    records_in: recordsIn,
    records_out: recordsIn - rejected,
    rejected,
    inserted: writes.inserted,
    updated: sum(rows, accepted('update')),
    reactivated: sum(rows, accepted('reactivate')),
    unchanged: sum(rows, accepted('unchanged')),
    deactivated: writes.deactivated,
    reject_reasons: reasons(rows),
  };
}

export function factSummary(
  outcomes: readonly OutcomeRow[],
  table: 'transactions' | 'transaction_items',
  inserted: number,
): FactSummary {
  const rows = rowsOf(outcomes, table);
  const recordsIn = sum(rows, () => true);
  const rejected = sum(rows, (r) => r.reason !== null);
  return {
    records_in: recordsIn,
    records_out: recordsIn - rejected,
    rejected,
    inserted,
    already_present: sum(
      rows,
      (r) => r.reason === null && (r.action === 'present' || r.action === 'ignored_change'),
    ),
    ignored_changed_facts: sum(rows, (r) => r.reason === null && r.action === 'ignored_change'),
    reject_reasons: reasons(rows),
  };
}

export function transformationsApplied(
  counts: TransformationCounts,
): TransformationSummary['transformations'] {
  return [
    {
      name: 'trim_text',
      description: 'leading and trailing whitespace removed from text fields and ids',
      rows_affected: counts.text_trimmed,
    },
    {
      name: 'empty_to_null',
      description: 'empty optional text fields stored as NULL',
      rows_affected: counts.empty_to_null,
    },
    {
      name: 'title_case_names',
      description: 'first_name and last_name in title case (initcap)',
      rows_affected: counts.name_title_cased,
    },
    { name: 'lower_case_emails', description: 'emails lower-cased', rows_affected: counts.email_lower_cased },
    {
      name: 'normalize_phones',
      description: 'phone numbers reduced to digits, keeping a leading +',
      rows_affected: counts.phone_normalized,
    },
    {
      name: 'derive_profit_margin',
      description: 'profit_margin = round((price - cost) / price * 100, 2)',
      rows_affected: counts.profit_margin_derived,
    },
    {
      name: 'derive_price_category',
      description: 'price_category Budget / Mid-range / Premium from the configured thresholds',
      rows_affected: counts.price_category_derived,
    },
  ];
}

export function reconciliationSummary(counts: ReconciliationCounts): TransformationSummary['reconciliation'] {
  return {
    line_totals_corrected: counts.line_totals_corrected,
    line_total_corrected_item_ids: counts.line_total_ids,
    transaction_totals_corrected: counts.totals_corrected,
    total_corrected_transaction_ids: counts.total_ids,
    new_transactions_without_items: counts.transactions_without_items,
    items_added_to_existing_transactions: counts.items_added_to_existing_transactions,
  };
}

/** Writes the summary beside a temporary file first, so a reader never sees half of it. */
export async function writeSummary(dir: string, summary: TransformationSummary): Promise<string> {
  const path = join(dir, SUMMARY_FILE);
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(summary, null, 2)}\n`, 'utf8');
  await rename(temporary, path);
  return path;
}
