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

/**
 * What happened to one dimension's staged rows, against each member's state on the business date
 * before this one (README, "Order of runs"). `records_out` = accepted rows.
 */
export interface DimensionSummary {
  readonly records_in: number;
  readonly records_out: number;
  readonly rejected: number;
  /** Members seen for the first time. */
  readonly inserted: number;
  readonly updated: number;
  readonly reactivated: number;
  readonly unchanged: number;
  /** Members present on the business date before and missing from this snapshot (kept, marked left). */
  readonly deactivated: number;
  /** Members whose history changed (the warehouse re-derives their versions). */
  readonly members_changed: number;
  /** Production rows inserted or updated: only where the latest business date's state moved. */
  readonly production_rows_written: number;
  readonly reject_reasons: Readonly<Record<string, number>>;
}

/**
 * What happened to one fact table's staged rows. A fact belongs to the earliest business date
 * whose input holds it (README, "Facts by business date"). `records_out` = accepted rows.
 */
export interface FactSummary {
  readonly records_in: number;
  readonly records_out: number;
  readonly rejected: number;
  readonly inserted: number;
  /** Already loaded, by this date or an earlier one, with the same values (or an earlier date's other values). */
  readonly already_present: number;
  /** This date's own facts that its input now holds with other values: updated. */
  readonly corrected: number;
  /** Facts a later date loaded first: they belong to this date from now on, with its values. */
  readonly taken_over: number;
  /** Owned by an earlier date with other values: that date's values stand (this input's are kept as its copy). */
  readonly ignored_changed_facts: number;
  /** This date's facts its input no longer holds (and lines of withdrawn transactions): production.withdrawn_facts. */
  readonly withdrawn: number;
  /** This date's facts its input no longer holds that another date's input holds: that date's copy now stands. */
  readonly promoted: number;
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
  readonly withdrawn_total: number;
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
    /** Totals of transactions whose lines changed other than by a new transaction, set again to their lines' sum. */
    readonly totals_followed_lines: number;
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
): { inserted: number } {
  const rows = rowsOf(outcomes, table).filter((r) => r.reason === null);
  return { inserted: sum(rows, (r) => r.action === 'insert') };
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
    inserted: sum(rows, accepted('insert')),
    updated: sum(rows, accepted('update')),
    reactivated: sum(rows, accepted('reactivate')),
    unchanged: sum(rows, accepted('unchanged')),
    deactivated: writes.deactivated,
    members_changed: writes.membersChanged,
    production_rows_written: writes.productionRowsWritten,
    reject_reasons: reasons(rows),
  };
}

export function factSummary(
  outcomes: readonly OutcomeRow[],
  table: 'transactions' | 'transaction_items',
  inserted: number,
  dropped: { readonly withdrawn: number; readonly promoted: number },
): FactSummary {
  const rows = rowsOf(outcomes, table);
  const recordsIn = sum(rows, () => true);
  const rejected = sum(rows, (r) => r.reason !== null);
  const accepted = (action: OutcomeRow['action']) => (r: OutcomeRow) =>
    r.reason === null && r.action === action;
  return {
    records_in: recordsIn,
    records_out: recordsIn - rejected,
    rejected,
    inserted,
    already_present: sum(
      rows,
      (r) => r.reason === null && (r.action === 'present' || r.action === 'ignored_change'),
    ),
    corrected: sum(rows, accepted('correct')),
    taken_over: sum(rows, accepted('take_over')),
    ignored_changed_facts: sum(rows, accepted('ignored_change')),
    withdrawn: dropped.withdrawn,
    promoted: dropped.promoted,
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

export function reconciliationSummary(
  counts: ReconciliationCounts,
  totalsFollowedLines: number,
): TransformationSummary['reconciliation'] {
  return {
    totals_followed_lines: totalsFollowedLines,
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
