import { performance } from 'node:perf_hooks';
import {
  citusPresent,
  PermanentError,
  sqlFile,
  stepTimer,
  type StageDatabase,
  type StageTransaction,
  type TimedStep,
} from '@pipeline/kernel';

const resetSql = sqlFile(import.meta.url, 'summaries/reset.sql');
const rebuildTransactionsSql = sqlFile(import.meta.url, 'summaries/rebuild-transactions.sql');
const recordTransactionsSql = sqlFile(import.meta.url, 'summaries/record-transactions.sql');
const checkRebuiltTransactionsSql = sqlFile(import.meta.url, 'summaries/check-rebuilt-transactions.sql');
const rebuildCustomerSummariesSql = sqlFile(import.meta.url, 'summaries/rebuild-customer-summaries.sql');
const analyzeCustomerSummariesSql = sqlFile(import.meta.url, 'summaries/analyze-customer-summaries.sql');
const rebuildProductSummariesSql = sqlFile(import.meta.url, 'summaries/rebuild-product-summaries.sql');
const analyzeProductSummariesSql = sqlFile(import.meta.url, 'summaries/analyze-product-summaries.sql');
const scopeSql = sqlFile(import.meta.url, 'summaries/refresh-scope.sql');
const refreshSql = sqlFile(import.meta.url, 'summaries/refresh-summaries.sql');
const checkTransactionsSql = sqlFile(import.meta.url, 'summaries/check-transactions.sql');
const customerNaturalIdsSql = sqlFile(import.meta.url, 'summaries/natural-ids-customers.sql');
const productNaturalIdsSql = sqlFile(import.meta.url, 'summaries/natural-ids-products.sql');
const daysSql = sqlFile(import.meta.url, 'summaries/days.sql');
const finishSql = sqlFile(import.meta.url, 'summaries/finish.sql');
const analyzeCategoriesSql = sqlFile(import.meta.url, 'summaries/analyze-categories.sql');
const addUpSql = sqlFile(import.meta.url, 'summaries/add-up.sql');

export type RebuildReason = 'first run' | 'facts changed' | 'facts removed';

export interface SummaryRefresh {
  /** `rebuild`: from every fact (first run, or the facts changed other than by appending). */
  readonly mode: 'rebuild' | 'incremental';
  /** Why the summaries were rebuilt, when they were. */
  readonly reason?: RebuildReason;
  /** A rebuild's halves ran side by side, each in a transaction of its own (PostgreSQL). */
  readonly side_by_side?: boolean;
  readonly new_facts: number;
  readonly ms: number;
  /** Wall milliseconds per step (one `.sql` file each), for the bench and the run report. */
  readonly step_ms: Readonly<Record<string, number>>;
}

interface StateRow {
  last_sales_key: string | null;
  stale: boolean | null;
  max_sales_key: string | null;
  changes_logged: boolean;
}

interface DisagreeingTransaction {
  transaction_id: string;
  /** Each `(date_key, customer_key, payment_method_key)` its lines carry. */
  combinations: string[];
}

/**
 * Whether the summaries must be rebuilt from every fact, and why. Locks `summary_state`: under
 * REPEATABLE READ a concurrent refresh makes this one fail to serialize (and be retried) rather
 * than both writing the summaries.
 */
async function rebuildReason(tx: StageTransaction): Promise<RebuildReason | undefined> {
  const { rows } = await tx.query<StateRow>(
    `SELECT s.last_sales_key, s.stale, (SELECT max(sales_key) FROM warehouse.fact_sales) AS max_sales_key,
            EXISTS (SELECT 1 FROM warehouse.fact_changes c WHERE c.change_id > s.last_change_id) AS changes_logged
     FROM (SELECT 1) one
     LEFT JOIN (SELECT last_sales_key, last_change_id, stale FROM analytics.summary_state FOR UPDATE) s ON true`,
  );
  const state = rows[0]!;
  if (state.last_sales_key === null) return 'first run';
  if (state.stale) return 'facts changed';
  // Facts the warehouse removed are in its log (warehouse.fact_changes), which the refresh follows;
  // fewer facts than summarised without a logged change means they went some other way.
  if (BigInt(state.max_sales_key ?? '0') < BigInt(state.last_sales_key) && !state.changes_logged)
    return 'facts removed';
  return undefined;
}

/**
 * Statistics of the summaries after a rebuild, except on a Citus cluster: there they are Citus
 * local tables (migration 1764100030000), whose ANALYZE Citus refuses once the transaction has
 * read a reference table's copy on the coordinator; their shards are analysed by autovacuum.
 */
async function analyze(tx: StageTransaction, sql: string): Promise<void> {
  if (await citusPresent(tx)) return;
  await tx.query(sql);
}

/**
 * The customer half of a rebuild: one row per transaction (and its guard), then the summaries
 * that count transactions per customer version, day and payment method, and month.
 */
async function rebuildCustomerHalf(tx: StageTransaction, step: TimedStep): Promise<void> {
  await step('transactions', () => tx.query(rebuildTransactionsSql));
  // analytics.transactions' primary key is the guard of a rebuild: free while it holds.
  await tx.query('SAVEPOINT analytics_record_transactions');
  try {
    await step('record_transactions', () => tx.query(recordTransactionsSql));
  } catch (error) {
    if (!isDuplicateTransaction(error)) throw error;
    await tx.query('ROLLBACK TO SAVEPOINT analytics_record_transactions');
    await refuseDisagreement(tx, checkRebuiltTransactionsSql);
    throw error;
  }
  await step('customer_summaries', () => tx.query(rebuildCustomerSummariesSql));
  await step('customer_natural_ids', () => tx.query(customerNaturalIdsSql));
  await step('analyze_customers', () => analyze(tx, analyzeCustomerSummariesSql));
}

/** The product half of a rebuild: product versions and natural ids, and the per-day summaries. Returns the facts read. */
async function rebuildProductHalf(tx: StageTransaction, step: TimedStep): Promise<number> {
  await step('product_summaries', () => tx.query(rebuildProductSummariesSql));
  await step('product_natural_ids', () => tx.query(productNaturalIdsSql));
  await step('days', () => tx.query(daysSql));
  await step('analyze_products', () => analyze(tx, analyzeProductSummariesSql));
  const { rows } = await tx.query<{ facts: number }>(
    'SELECT coalesce(sum(line_items), 0)::int AS facts FROM analytics.daily_discount_band_sales',
  );
  return rows[0]!.facts;
}

/**
 * Brings the `analytics.*` sales summaries up to date with `warehouse.fact_sales`, inside the
 * stage's transaction, so that the queries read summaries the size of their answers instead
 * of every fact. Facts are append-only: the summaries follow them by `sales_key`, recomputing
 * the keys (customer and product versions, days) that new facts touched. They are rebuilt from
 * every fact on the first run, and when a fact was updated, deleted or truncated since (a
 * trigger marks them stale) or the newest fact is older than the last one summarised (unless
 * `rebuildSalesSummariesSideBySide` has just done it).
 */
export async function refreshSalesSummaries(tx: StageTransaction): Promise<SummaryRefresh> {
  const started = performance.now();
  let reason = await rebuildReason(tx);
  const timer = stepTimer();
  const step = (name: string, sql: string) => timer.step(name, () => tx.query(sql));
  let newFacts = 0;
  const rebuild = async () => {
    await step('reset', resetSql);
    await rebuildCustomerHalf(tx, timer.step);
    newFacts = await rebuildProductHalf(tx, timer.step);
    await step('finish', finishSql);
    await timer.step('analyze', () => analyze(tx, analyzeCategoriesSql));
  };
  if (reason) {
    await rebuild();
  } else {
    // A rebuild after a refresh that does not add up (below) starts from before the refresh: its
    // work, and the temporary tables it made, are undone first.
    await tx.query('SAVEPOINT analytics_refresh');
    await step('scope', scopeSql);
    await refuseDisagreement(tx, checkTransactionsSql);
    await step('summaries', refreshSql);
    await timer.step('natural_ids', async () => {
      await tx.query(customerNaturalIdsSql);
      await tx.query(productNaturalIdsSql);
    });
    await step('days', daysSql);
    await step('finish', finishSql);
    const counted = await tx.query<{ facts: number }>(
      'SELECT count(*)::int AS facts FROM analytics_new_facts',
    );
    newFacts = counted.rows[0]!.facts;
    // Without the triggers that mark the summaries stale (a Citus cluster), facts changed by hand
    // show here, as summaries that no longer add up to the facts (summaries/add-up.sql).
    const { rows } = await tx.query<{ adds_up: boolean }>(addUpSql);
    if (rows[0]?.adds_up !== true) {
      reason = 'facts changed';
      await tx.query('ROLLBACK TO SAVEPOINT analytics_refresh');
      await rebuild();
    } else {
      await tx.query('RELEASE SAVEPOINT analytics_refresh');
    }
  }
  return {
    mode: reason ? 'rebuild' : 'incremental',
    ...(reason ? { reason } : {}),
    new_facts: newFacts,
    ms: Math.round(performance.now() - started),
    step_ms: timer.ms,
  };
}

/**
 * Transactions of their own that read the snapshot of an open, coordinating REPEATABLE READ
 * transaction (PostgreSQL's `pg_export_snapshot`), so that work split across several backends
 * (one backend uses one core) reads the same data. The snapshot can be imported only while the
 * coordinator's transaction is open: the coordinator waits for every part (`settle`) before it
 * commits or rolls back.
 */
export interface SharedSnapshot {
  /** Runs `part` in a transaction of its own, on the snapshot, with the stage's session settings. */
  inTransaction<T>(part: (tx: StageTransaction) => Promise<T>): Promise<T>;
  /** A part that runs in the coordinator itself: its failure stops the others too. */
  alongside<T>(part: Promise<T>): Promise<T>;
  /**
   * Throws once any part has failed. Parts call it before each step, so that a failure stops the
   * others at their next step instead of letting them finish for nothing.
   */
  stopIfFailed(message: string): void;
  /** Waits until every part has settled, then throws the first failure (the cause), if any. */
  settle<T extends readonly unknown[] | []>(parts: T): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }>;
}

/**
 * Exports `coordinator`'s snapshot (its transaction must be REPEATABLE READ) for transactions
 * opened by `SharedSnapshot.inTransaction`, REPEATABLE READ too, and READ ONLY with `readOnly`.
 * `prepare` applies the stage's session settings to each of them.
 */
export async function shareSnapshot(
  db: StageDatabase,
  coordinator: StageTransaction,
  prepare: (tx: StageTransaction) => Promise<void>,
  options: { readonly readOnly?: boolean } = {},
): Promise<SharedSnapshot> {
  const { rows } = await coordinator.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
  const snapshot = rows[0]!.snapshot;
  if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id ${snapshot}`);
  const isolation = `REPEATABLE READ${options.readOnly ? ', READ ONLY' : ''}`;
  let failure: { cause: unknown } | undefined;
  const tracked = <T>(part: Promise<T>): Promise<T> =>
    part.catch((error: unknown) => {
      failure ??= { cause: error };
      throw error;
    });
  return {
    inTransaction: (part) =>
      tracked(
        db.transaction(async (tx) => {
          await tx.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
          await tx.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
          await prepare(tx);
          return part(tx);
        }),
      ),
    alongside: tracked,
    stopIfFailed(message) {
      if (failure) throw new Error(message);
    },
    async settle(parts) {
      await Promise.allSettled(parts);
      if (failure) throw failure.cause;
      return Promise.all(parts);
    },
  };
}

/**
 * Rebuilds the summaries, when they need it, with the customer and the product half side by side
 * (PostgreSQL: a rebuild reads every fact several times, and one backend uses one core). Each
 * half runs in a transaction of its own on the snapshot of a coordinating transaction
 * (`shareSnapshot`), so both read the same facts; the coordinator holds `summary_state`
 * and commits the mark last, after both halves have committed. A failure in either half leaves
 * the mark as it was, so the next attempt rebuilds again: the halves' tables are derived data
 * that nothing reads before the mark says they are complete. Returns nothing when the summaries
 * need no rebuild (the stage's transaction then refreshes them incrementally).
 *
 * `prepare` applies the stage's session settings to each transaction.
 */
export async function rebuildSalesSummariesSideBySide(
  db: StageDatabase,
  prepare: (tx: StageTransaction) => Promise<void>,
): Promise<SummaryRefresh | undefined> {
  const started = performance.now();
  return db.transaction(async (coordinator) => {
    await coordinator.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await prepare(coordinator);
    const reason = await rebuildReason(coordinator);
    if (!reason) return undefined;
    const timer = stepTimer();
    const shared = await shareSnapshot(db, coordinator, prepare);
    await timer.step('reset', () => coordinator.query(resetSql));
    const half = <T>(work: (tx: StageTransaction, step: TimedStep) => Promise<T>): Promise<T> =>
      shared.inTransaction((tx) =>
        work(tx, (name, run) => {
          shared.stopIfFailed('stopped: the other half of the rebuild failed');
          return timer.step(name, run);
        }),
      );
    const [, facts] = await shared.settle([half(rebuildCustomerHalf), half(rebuildProductHalf)]);
    await timer.step('finish', () => coordinator.query(finishSql));
    await timer.step('analyze', () => analyze(coordinator, analyzeCategoriesSql));
    return {
      mode: 'rebuild' as const,
      reason,
      side_by_side: true,
      new_facts: facts,
      ms: Math.round(performance.now() - started),
      step_ms: timer.ms,
    };
  });
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
