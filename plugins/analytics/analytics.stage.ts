import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  FencedError,
  Stage,
  type PipelineStage,
  type StageContext,
  type StageResult,
  type StageTransaction,
} from '@pipeline/kernel';
import { analyticsConfigSchema, type AnalyticsSettings } from './analytics.config.js';
import { analyticsQueries, type AnalyticsQuery } from './analytics.queries.js';
import { exportQueryToCsv } from './csv-export.js';
import {
  rebuildSalesSummariesSideBySide,
  refreshSalesSummaries,
  shareSnapshot,
  type SummaryRefresh,
} from './sales-summaries.js';

export interface QuerySummary {
  readonly query: string;
  readonly file: string;
  readonly rows: number;
  readonly columns: readonly string[];
  readonly ms: number;
}

/**
 * The order in which the exports are taken when two connections share them: most expensive
 * first, so that the last query either connection takes is a short one and both finish close
 * together (longest first, the usual greedy split of jobs over two workers). Static, from a daily
 * run on a 1M-transaction warehouse: query7 0.82 s, query8 0.53 s, query3 0.38 s, query6 0.23 s,
 * query1 0.20 s, each of the others under 0.1 s. The expensive five read one summary row per
 * member (customer, customer version, product), so their order holds as the warehouse grows; the
 * others read per-day summaries. A query not listed here would be taken last.
 */
const MOST_EXPENSIVE_FIRST: readonly string[] = [
  'query7_customer_lifetime_value',
  'query8_product_profitability',
  'query3_customer_segmentation',
  'query6_geographic_analysis',
  'query1_top_products',
  'query4_category_performance',
  'query2_monthly_trend',
  'query9_day_of_week',
  'query5_payment_methods',
  'query10_discount_impact',
];

const costRank = (query: AnalyticsQuery): number => {
  const rank = MOST_EXPENSIVE_FIRST.indexOf(query.name);
  return rank === -1 ? MOST_EXPENSIVE_FIRST.length : rank;
};

/** Which connection exported which queries, in the order each took them. */
type ExportConnections =
  | { readonly side_by_side: false }
  | { readonly side_by_side: true; readonly coordinator: string[]; readonly importer: string[] };

/**
 * Runs the ten analytical queries on the warehouse and exports each to
 * `processed/analytics/<query>.csv`, plus `analytics_summary.json`.
 *
 * All queries read one REPEATABLE READ snapshot, so the ten files describe the same warehouse
 * state even if another writer commits meanwhile. Every file is written to `<file>.tmp` first;
 * the files are renamed into place only after all ten queries succeeded.
 *
 * Before the queries, the `analytics.*` sales summaries are brought up to date with the facts
 * appended since the last run (`sales-summaries.ts`); the queries read those summaries, whose
 * size follows their answers (members, days), not the facts. On PostgreSQL the exports run on
 * two connections that share one snapshot (`exports_side_by_side`).
 */
@Stage({
  name: 'analytics',
  description: 'Runs the ten analytical queries on the warehouse and exports them as CSV',
  dependsOn: ['warehouse'],
  config: { key: 'analytics', schema: analyticsConfigSchema },
})
export class AnalyticsStage implements PipelineStage<AnalyticsSettings> {
  async run(ctx: StageContext<AnalyticsSettings>): Promise<StageResult> {
    const queries = analyticsQueries(ctx.settings, ctx.runDate);
    const started = performance.now();
    const pending: string[] = [];
    const summaryPath = join(ctx.paths.own, 'analytics_summary.json');
    await mkdir(ctx.paths.own, { recursive: true });
    let refresh: SummaryRefresh | undefined;
    // Every row of every cursor is fetched, so plan for all of them (not the default first 10%);
    // JIT compilation costs more than it saves once the fact table's costs cross its threshold;
    // the DISTINCT sorts fit in work_mem instead of spilling to disk.
    const prepare = async (tx: StageTransaction): Promise<void> => {
      await tx.query(
        `SELECT set_config('cursor_tuple_fraction', '1', true), set_config('jit', 'off', true),
                set_config('work_mem', $1, true), set_config('random_page_cost', $2, true)`,
        [`${ctx.settings.work_mem_mb}MB`, String(ctx.settings.random_page_cost)],
      );
    };
    const stopIfAborted = (query: AnalyticsQuery): void => {
      if (ctx.signal.aborted)
        throw new FencedError(
          `analytics stopped before ${query.name}: ${String(ctx.signal.reason ?? 'aborted')}`,
        );
    };
    const fileOf = (query: string): string => join(ctx.paths.own, `${query}.csv`);
    // To `<file>.tmp`, listed in `pending` before it starts, so that a failure on either
    // connection removes every file begun on both.
    const exportQuery = async (tx: StageTransaction, query: AnalyticsQuery): Promise<QuerySummary> => {
      const tmp = `${fileOf(query.name)}.tmp`;
      pending.push(tmp);
      const queryStarted = performance.now();
      const exported = await exportQueryToCsv(tx, query, tmp, ctx.settings.fetch_batch_rows);
      const ms = Math.round(performance.now() - queryStarted);
      ctx.logger.debug('analytics query exported', { query: query.name, rows: exported.rows, ms });
      return {
        query: query.name,
        file: `${query.name}.csv`,
        rows: exported.rows,
        columns: exported.columns,
        ms,
      };
    };
    try {
      // One embedded database is one backend: there, a rebuild runs in the stage's transaction.
      // Side by side, the coordinator and both halves hold a pooled connection for the whole
      // rebuild; with fewer than one more to spare, the run store and the HTTP API (or, in a pool
      // of 2, the second half) would wait past the pool's connect timeout at scale.
      const sideBySide =
        ctx.db.kind === 'postgres' && ctx.settings.rebuild_side_by_side && ctx.db.connections >= 4;
      // The exports side by side hold two pooled connections (the coordinator and the one that
      // imports its snapshot); the same one to spare as for the rebuild.
      const exportsSideBySide =
        ctx.db.kind === 'postgres' && ctx.settings.exports_side_by_side && ctx.db.connections >= 3;
      const rebuilt = sideBySide ? await rebuildSalesSummariesSideBySide(ctx.db, prepare) : undefined;
      // Read-write: the summaries are refreshed here, and the kernel's fence runs before COMMIT.
      const refreshSummaries = async (tx: StageTransaction): Promise<void> => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await prepare(tx);
        const refreshed = await refreshSalesSummaries(tx);
        // After a rebuild side by side, this refresh takes only the facts appended since.
        refresh = rebuilt
          ? {
              ...rebuilt,
              new_facts: rebuilt.new_facts + refreshed.new_facts,
              ms: rebuilt.ms + refreshed.ms,
              step_ms: { ...rebuilt.step_ms, refresh: refreshed.ms },
            }
          : refreshed;
      };
      let summaries: QuerySummary[];
      let connections: ExportConnections;
      if (exportsSideBySide) {
        // The summaries are the stage's own cache, not the files' snapshot: committed on their
        // own (as a rebuild side by side already commits them) before the exports' snapshot is
        // taken. Under the run lock no pipeline stage writes the warehouse in between, so the
        // exports read the summaries as committed here; an outside writer that commits in that
        // gap moves the files' snapshot past the summaries, by what the next run picks up.
        await ctx.db.transaction(refreshSummaries);
        ({ summaries, connections } = await this.exportSideBySide(ctx, queries, prepare, (tx, query) => {
          stopIfAborted(query);
          return exportQuery(tx, query);
        }));
      } else {
        summaries = await ctx.db.transaction(async (tx) => {
          await refreshSummaries(tx);
          const done: QuerySummary[] = [];
          for (const query of queries) {
            stopIfAborted(query);
            done.push(await exportQuery(tx, query));
          }
          await ctx.checkpoint('analytics:exported');
          return done;
        });
        connections = { side_by_side: false };
      }

      for (const { query } of summaries) await rename(`${fileOf(query)}.tmp`, fileOf(query));
      const totalMs = Math.round(performance.now() - started);
      const summary = {
        run_id: ctx.runId,
        run_date: ctx.runDate,
        generated_at: new Date().toISOString(),
        total_ms: totalMs,
        queries: summaries,
      };
      await writeFile(`${summaryPath}.tmp`, `${JSON.stringify(summary, null, 2)}\n`);
      await rename(`${summaryPath}.tmp`, summaryPath);

      const files = [...summaries.map((s) => fileOf(s.query)), summaryPath].map((f) =>
        relative(ctx.paths.root, f),
      );
      return {
        rows: summaries.map((s) => ({ table: s.query, read: s.rows, written: s.rows })),
        files,
        details: {
          total_ms: totalMs,
          summaries: refresh,
          exports: connections,
          queries: Object.fromEntries(summaries.map((s) => [s.query, { rows: s.rows, ms: s.ms }])),
        },
      };
    } catch (error) {
      await Promise.all([...pending, `${summaryPath}.tmp`].map((tmp) => rm(tmp, { force: true })));
      throw error;
    }
  }

  /**
   * The exports on two connections (PostgreSQL: one backend uses one core) that read one
   * snapshot: a coordinating REPEATABLE READ READ ONLY transaction exports it and another
   * imports it, and each takes the next query from one queue, most expensive first, until it is
   * empty. A failure on either stops the other at its next query; the coordinator waits for both
   * before it ends, so no export is still writing when the stage cleans up. Returns the
   * summaries in the queries' defined order.
   */
  private async exportSideBySide(
    ctx: StageContext<AnalyticsSettings>,
    queries: readonly AnalyticsQuery[],
    prepare: (tx: StageTransaction) => Promise<void>,
    exportQuery: (tx: StageTransaction, query: AnalyticsQuery) => Promise<QuerySummary>,
  ): Promise<{ summaries: QuerySummary[]; connections: ExportConnections }> {
    const queue = [...queries].sort((a, b) => costRank(a) - costRank(b));
    const done = new Map<string, QuerySummary>();
    const coordinatorTook: string[] = [];
    const importerTook: string[] = [];
    await ctx.db.transaction(async (coordinator) => {
      await coordinator.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await prepare(coordinator);
      const shared = await shareSnapshot(ctx.db, coordinator, prepare, { readOnly: true });
      const exportUntilEmpty = async (tx: StageTransaction, took: string[]): Promise<void> => {
        for (;;) {
          shared.stopIfFailed('stopped: an export on the other connection failed');
          const query = queue.shift();
          if (!query) return;
          took.push(query.name);
          done.set(query.name, await exportQuery(tx, query));
        }
      };
      // The coordinator takes its first query only once the other connection holds the snapshot
      // and has taken the head of the queue: which connection exports which query then follows
      // the queue alone, not how fast a pooled connection opened (on a small warehouse the
      // coordinator would otherwise export all ten alone). Waiting costs a few round trips.
      let holdsSnapshot!: () => void;
      const importerReady = new Promise<void>((resolve) => (holdsSnapshot = resolve));
      const importer = shared.inTransaction((tx) => {
        holdsSnapshot();
        return exportUntilEmpty(tx, importerTook);
      });
      // An importer that fails before it holds the snapshot must not leave the coordinator waiting.
      await Promise.race([importerReady, importer.catch(() => undefined)]);
      await shared.settle([importer, shared.alongside(exportUntilEmpty(coordinator, coordinatorTook))]);
      await ctx.checkpoint('analytics:exported');
    });
    return {
      summaries: queries.map((query) => done.get(query.name)!),
      connections: { side_by_side: true, coordinator: coordinatorTook, importer: importerTook },
    };
  }
}
