import { performance } from 'node:perf_hooks';
import { PermanentError, sqlFile, stepTimer, type StageTransaction } from '../../libs/kernel/index.js';

const resetSql = sqlFile(import.meta.url, 'summaries/reset.sql');
const rebuildTransactionsSql = sqlFile(import.meta.url, 'summaries/rebuild-transactions.sql');
const recordTransactionsSql = sqlFile(import.meta.url, 'summaries/record-transactions.sql');
const checkRebuiltTransactionsSql = sqlFile(import.meta.url, 'summaries/check-rebuilt-transactions.sql');
const rebuildSql = sqlFile(import.meta.url, 'summaries/rebuild-summaries.sql');
const scopeSql = sqlFile(import.meta.url, 'summaries/refresh-scope.sql');
const refreshSql = sqlFile(import.meta.url, 'summaries/refresh-summaries.sql');
const checkTransactionsSql = sqlFile(import.meta.url, 'summaries/check-transactions.sql');
const naturalIdsSql = sqlFile(import.meta.url, 'summaries/natural-ids.sql');
const daysSql = sqlFile(import.meta.url, 'summaries/days.sql');
const finishSql = sqlFile(import.meta.url, 'summaries/finish.sql');
const analyzeSql = sqlFile(import.meta.url, 'summaries/analyze.sql');

export interface SummaryRefresh {
  /** `rebuild`: from every fact (first run, or the facts changed other than by appending). */
  readonly mode: 'rebuild' | 'incremental';
  /** Why the summaries were rebuilt, when they were. */
  readonly reason?: 'first run' | 'facts changed' | 'facts removed';
  readonly new_facts: number;
  readonly ms: number;
  /** Wall milliseconds per step (one `.sql` file each), for the bench and the run report. */
  readonly step_ms: Readonly<Record<string, number>>;
}

interface StateRow {
  last_sales_key: string | null;
  stale: boolean | null;
  max_sales_key: string | null;
}

interface DisagreeingTransaction {
  transaction_id: string;
  /** Each `(date_key, customer_key, payment_method_key)` its lines carry. */
  combinations: string[];
}

/**
 * Brings the `analytics.*` sales summaries up to date with `warehouse.fact_sales`, inside the
 * stage's transaction, so that the queries read summaries the size of their answers instead
 * of every fact. Facts are append-only: the summaries follow them by `sales_key`, recomputing
 * the keys (customer and product versions, days) that new facts touched. They are rebuilt from
 * every fact on the first run, and when a fact was updated, deleted or truncated since (a
 * trigger marks them stale) or the newest fact is older than the last one summarised.
 */
export async function refreshSalesSummaries(tx: StageTransaction): Promise<SummaryRefresh> {
  const started = performance.now();
  // FOR UPDATE: under REPEATABLE READ a concurrent refresh makes this one fail to serialize (and
  // be retried) rather than both writing the summaries.
  const { rows } = await tx.query<StateRow>(
    `SELECT s.last_sales_key, s.stale, (SELECT max(sales_key) FROM warehouse.fact_sales) AS max_sales_key
     FROM (SELECT 1) one
     LEFT JOIN (SELECT last_sales_key, stale FROM analytics.summary_state FOR UPDATE) s ON true`,
  );
  const state = rows[0]!;
  const reason =
    state.last_sales_key === null
      ? ('first run' as const)
      : state.stale
        ? ('facts changed' as const)
        : BigInt(state.max_sales_key ?? '0') < BigInt(state.last_sales_key)
          ? ('facts removed' as const)
          : undefined;
  const timer = stepTimer();
  const step = (name: string, sql: string) => timer.step(name, () => tx.query(sql));
  if (reason) {
    await step('reset', resetSql);
    await step('transactions', rebuildTransactionsSql);
    // analytics.transactions' primary key is the guard of a rebuild: free while it holds.
    await tx.query('SAVEPOINT analytics_record_transactions');
    try {
      await step('record_transactions', recordTransactionsSql);
    } catch (error) {
      if (!isDuplicateTransaction(error)) throw error;
      await tx.query('ROLLBACK TO SAVEPOINT analytics_record_transactions');
      await refuseDisagreement(tx, checkRebuiltTransactionsSql);
      throw error;
    }
    await step('summaries', rebuildSql);
  } else {
    await step('scope', scopeSql);
    await refuseDisagreement(tx, checkTransactionsSql);
    await step('summaries', refreshSql);
  }
  await step('natural_ids', naturalIdsSql);
  await step('days', daysSql);
  await step('finish', finishSql);
  if (reason) await step('analyze', analyzeSql);
  const counted = await tx.query<{ facts: number }>(
    reason
      ? 'SELECT coalesce(sum(line_items), 0)::int AS facts FROM analytics.daily_discount_band_sales'
      : 'SELECT count(*)::int AS facts FROM analytics_new_facts',
  );
  return {
    mode: reason ? 'rebuild' : 'incremental',
    ...(reason ? { reason } : {}),
    new_facts: counted.rows[0]!.facts,
    ms: Math.round(performance.now() - started),
    step_ms: timer.ms,
  };
}

async function refuseDisagreement(tx: StageTransaction, checkSql: string): Promise<void> {
  const { rows } = await tx.query<DisagreeingTransaction>(checkSql);
  if (rows.length === 0) return;
  const shown = rows.map((r) => `${r.transaction_id} ${r.combinations.join(' and ')}`).join('; ');
  throw new PermanentError(
    `warehouse.fact_sales: lines of one transaction disagree on (date_key, customer_key, ` +
      `payment_method_key), which the warehouse never writes; the analytics summaries count a ` +
      `transaction once on that ground. First ${rows.length}: ${shown}`,
  );
}

function isDuplicateTransaction(error: unknown): boolean {
  const { code, schema, constraint } = error as { code?: unknown; schema?: unknown; constraint?: unknown };
  return code === '23505' && schema === 'analytics' && constraint === 'transactions_pkey';
}
