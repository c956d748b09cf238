import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import {
  FencedError,
  Stage,
  type PipelineStage,
  type StageContext,
  type StageResult,
  type StageTransaction,
} from '../../libs/kernel/index.js';
import { analyticsConfigSchema, type AnalyticsSettings } from './analytics.config.js';
import { analyticsQueries } from './analytics.queries.js';
import { exportQueryToCsv } from './csv-export.js';
import {
  rebuildSalesSummariesSideBySide,
  refreshSalesSummaries,
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
 * Runs the ten analytical queries on the warehouse and exports each to
 * `processed/analytics/<query>.csv`, plus `analytics_summary.json`.
 *
 * All queries read one REPEATABLE READ snapshot, so the ten files describe the same warehouse
 * state even if another writer commits meanwhile. Every file is written to `<file>.tmp` first;
 * the files are renamed into place only after all ten queries succeeded.
 *
 * Before the queries, the `analytics.*` sales summaries are brought up to date with the facts
 * appended since the last run (`sales-summaries.ts`); the queries read those summaries, whose
 * size follows their answers (members, days), not the facts.
 */
@Stage({
  name: 'analytics',
  description: 'Runs the ten analytical queries on the warehouse and exports them as CSV',
  dependsOn: ['warehouse'],
  config: { key: 'analytics', schema: analyticsConfigSchema },
})
@Injectable()
export class AnalyticsStage implements PipelineStage<AnalyticsSettings> {
  async run(ctx: StageContext<AnalyticsSettings>): Promise<StageResult> {
    const queries = analyticsQueries(ctx.settings, ctx.runDate);
    const started = performance.now();
    const pending: Array<{ tmp: string; final: string }> = [];
    const summaryPath = join(ctx.paths.analytics, 'analytics_summary.json');
    await mkdir(ctx.paths.analytics, { recursive: true });
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
    try {
      // One embedded database is one backend: there, a rebuild runs in the stage's transaction.
      // Side by side, the coordinator and both halves hold a pooled connection for the whole
      // rebuild; with fewer than one more to spare, the run store and the HTTP API (or, in a pool
      // of 2, the second half) would wait past the pool's connect timeout at scale.
      const sideBySide =
        ctx.db.kind === 'postgres' && ctx.settings.rebuild_side_by_side && ctx.config.database.pool_size >= 4;
      const rebuilt = sideBySide ? await rebuildSalesSummariesSideBySide(ctx.db, prepare) : undefined;
      const summaries = await ctx.db.transaction(async (tx) => {
        // Read-write: the summaries are refreshed here, and the kernel's fence runs before COMMIT.
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
        const done: QuerySummary[] = [];
        for (const query of queries) {
          if (ctx.signal.aborted)
            throw new FencedError(
              `analytics stopped before ${query.name}: ${String(ctx.signal.reason ?? 'aborted')}`,
            );
          const final = join(ctx.paths.analytics, `${query.name}.csv`);
          const tmp = `${final}.tmp`;
          pending.push({ tmp, final });
          const queryStarted = performance.now();
          const exported = await exportQueryToCsv(tx, query, tmp, ctx.settings.fetch_batch_rows);
          const ms = Math.round(performance.now() - queryStarted);
          done.push({
            query: query.name,
            file: `${query.name}.csv`,
            rows: exported.rows,
            columns: exported.columns,
            ms,
          });
          ctx.logger.debug('analytics query exported', { query: query.name, rows: exported.rows, ms });
        }
        await ctx.checkpoint('analytics:exported');
        return done;
      });

      for (const { tmp, final } of pending) await rename(tmp, final);
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

      const files = [...pending.map((p) => p.final), summaryPath].map((f) => relative(ctx.paths.root, f));
      return {
        rows: summaries.map((s) => ({ table: s.query, read: s.rows, written: s.rows })),
        files,
        details: {
          total_ms: totalMs,
          summaries: refresh,
          queries: Object.fromEntries(summaries.map((s) => [s.query, { rows: s.rows, ms: s.ms }])),
        },
      };
    } catch (error) {
      await Promise.all(
        [...pending.map((p) => p.tmp), `${summaryPath}.tmp`].map((tmp) => rm(tmp, { force: true })),
      );
      throw error;
    }
  }
}
