import { performance } from 'node:perf_hooks';
import { PermanentError, sqlFile, type StageTransaction } from '../../libs/kernel/index.js';

const resetSql = sqlFile(import.meta.url, 'summaries/reset.sql');
const scopeSql = sqlFile(import.meta.url, 'summaries/refresh-scope.sql');
const refreshSql = sqlFile(import.meta.url, 'summaries/refresh-summaries.sql');
const checkTransactionsSql = sqlFile(import.meta.url, 'summaries/check-transactions.sql');

export interface SummaryRefresh {
  /** `rebuild`: from every fact (first run, or the facts changed other than by appending). */
  readonly mode: 'rebuild' | 'incremental';
  /** Why the summaries were rebuilt, when they were. */
  readonly reason?: 'first run' | 'facts changed' | 'facts removed';
  readonly new_facts: number;
  readonly ms: number;
}

interface StateRow {
  last_sales_key: string | null;
  stale: boolean | null;
  max_sales_key: string | null;
}

interface DisagreeingLine {
  transaction_id: string;
  date_key: number;
  customer_key: string;
  payment_method_key: number;
  seen_date_key: number;
  seen_customer_key: string;
  seen_payment_method_key: number;
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
  if (reason) await tx.query(resetSql);
  await tx.query(scopeSql);
  await tx.query(refreshSql);
  const disagreeing = await tx.query<DisagreeingLine>(checkTransactionsSql);
  if (disagreeing.rows.length > 0) throw new PermanentError(describeDisagreement(disagreeing.rows));
  const counted = await tx.query<{ new_facts: number }>(
    'SELECT count(*)::int AS new_facts FROM analytics_new_facts',
  );
  return {
    mode: reason ? 'rebuild' : 'incremental',
    ...(reason ? { reason } : {}),
    new_facts: counted.rows[0]!.new_facts,
    ms: Math.round(performance.now() - started),
  };
}

function describeDisagreement(lines: readonly DisagreeingLine[]): string {
  const shown = lines
    .map(
      (l) =>
        `${l.transaction_id} (a line with date_key ${l.date_key}, customer_key ${l.customer_key}, ` +
        `payment_method_key ${l.payment_method_key}; another with ${l.seen_date_key}, ` +
        `${l.seen_customer_key}, ${l.seen_payment_method_key})`,
    )
    .join('; ');
  return (
    `warehouse.fact_sales: lines of one transaction disagree on date, customer version or payment ` +
    `method, which the warehouse never writes; the analytics summaries count a transaction once ` +
    `on that ground. First ${lines.length}: ${shown}`
  );
}
