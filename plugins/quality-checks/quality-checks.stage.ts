import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  PermanentError,
  Stage,
  type PipelineStage,
  type StageContext,
  type StageResult,
  addDays,
} from '@pipeline/kernel';
import { CHECKS, STAGING_TABLES } from './quality-checks.catalog.js';
import { qualityScoreGauge } from './quality-checks.metrics.js';
import { qualityConfigSchema, type QualityConfig } from './quality-checks.config.js';
import { judgeInputDates, stagedInputOutput } from './input-dates.js';
import { buildReport, writeReportAtomically } from './quality-report.js';
import { QualityRepository } from './quality.repository.js';
import { decideGate, dimensionScores, gradeOf, judgeCheck, overallScore } from './quality-score.js';

export const QUALITY_REPORT_FILE = 'data_quality_report.json';
const STAGE_NAME = 'quality-checks';

/**
 * The quality gate between `staging` and `production`. Every failing row goes to
 * `pipeline.quarantine`, committed before the gate decides, so a closed gate still leaves the
 * evidence (quarantine rows and the report) behind.
 */
@Stage({
  name: STAGE_NAME,
  description:
    'Validates staging (completeness, uniqueness, referential integrity, consistency, ranges), quarantines failing rows and gates production',
  dependsOn: ['ingestion'],
  config: { key: 'quality', schema: qualityConfigSchema },
})
export class QualityChecksStage implements PipelineStage<QualityConfig> {
  async run(ctx: StageContext<QualityConfig>): Promise<StageResult> {
    const settings = ctx.settings;
    const durationsMs = new Map<string, number>();

    const { profiles, failures } = await ctx.db.transaction(async (tx) => {
      const repository = new QualityRepository(tx);
      await repository.setWorkMem(settings.work_mem_mb);
      const refusal = judgeInputDates(
        await repository.inputDates(ctx.runDate),
        ctx.runDate,
        settings.input_dates.late_days,
        // Ingestion says which file it staged; a run started after it only knows the table.
        ctx.outputOf('ingestion', stagedInputOutput)?.files['staging.transactions'] ?? 'staging.transactions',
      );
      if (refusal) throw refusal;
      const values = {
        runDate: ctx.runDate,
        tolerance: String(settings.tolerance),
        earliestDate: settings.plausible_dates.earliest,
        latestDate: addDays(ctx.runDate, settings.plausible_dates.days_after_run_date),
      };
      // One read per table says which checks have failing rows; only those run their own SQL,
      // which quarantines the rows and counts them. On clean data nothing else reads staging.
      const pass = await repository.profile(values);
      await repository.clearQuarantine(ctx.runId);
      const failures = new Map<string, number>();
      for (const check of CHECKS) {
        ctx.signal.throwIfAborted();
        const suspects = pass.suspects.get(check.name);
        if (suspects === undefined) throw new Error(`no profile statement answers check ${check.name}`);
        const started = performance.now();
        const failed = suspects > 0 ? await repository.quarantineFailures(check, ctx.runId, values) : 0;
        failures.set(check.name, failed);
        const ownMs = suspects > 0 ? performance.now() - started : 0;
        durationsMs.set(check.name, Math.round((pass.durationsMs.get(check.name) ?? 0) + ownMs));
      }
      await ctx.checkpoint(`${STAGE_NAME}:quarantined`);
      return { profiles: pass.profiles, failures };
    });

    const rowsOf = (table: string): number => profiles.find((p) => p.table === table)?.rows ?? 0;
    const outcomes = CHECKS.map((check) =>
      judgeCheck(check, settings, rowsOf(check.table), failures.get(check.name) ?? 0),
    );
    const scores = dimensionScores(outcomes);
    const score = overallScore(scores, settings.weights);
    const grade = gradeOf(score);
    const gate = decideGate(outcomes, score, settings.min_score);
    const quarantinedByTable = Object.fromEntries(
      STAGING_TABLES.map((table) => [
        `staging.${table}`,
        outcomes.filter((o) => o.table === table).reduce((sum, o) => sum + o.failed, 0),
      ]),
    );

    const reportPath = join(ctx.paths.own, QUALITY_REPORT_FILE);
    await writeReportAtomically(
      reportPath,
      buildReport({
        runId: ctx.runId,
        runDate: ctx.runDate,
        generatedAt: new Date(),
        profiles,
        outcomes,
        durationsMs,
        dimensionScores: scores,
        weights: settings.weights,
        score,
        grade,
        minScore: settings.min_score,
        gate,
        quarantinedByTable,
      }),
    );
    ctx.metrics.get(qualityScoreGauge).set(score);

    const failedChecks = outcomes.filter((o) => !o.passed).map((o) => `${o.name} (${o.severity})`);
    const quarantined = Object.values(quarantinedByTable).reduce((a, b) => a + b, 0);
    ctx.logger.info('quality checks finished', {
      score,
      grade,
      gatePassed: gate.passed,
      failedChecks,
      quarantined,
    });

    if (!gate.passed) {
      // A failed stage returns no result, so the kernel cannot count these rows: count them here.
      for (const [table, rows] of Object.entries(quarantinedByTable))
        ctx.metrics.recordRows(STAGE_NAME, table, 'rejected', rows);
      throw new PermanentError(
        `quality gate closed for run ${ctx.runId}: ${gate.reasons.join('; ')}. ` +
          `${quarantined} failing row(s) are in pipeline.quarantine (run_id ${ctx.runId}); see ${reportPath}`,
      );
    }

    const warnings = outcomes
      .filter((o) => !o.passed)
      .map(
        (o) =>
          `${o.name}: ${o.failed} of ${o.checked} rows of staging.${o.table} failed (${o.severity}); quarantined`,
      );
    return {
      rows: STAGING_TABLES.map((table) => ({
        table: `staging.${table}`,
        read: rowsOf(table),
        rejected: quarantinedByTable[`staging.${table}`] ?? 0,
      })),
      files: [relative(ctx.paths.root, reportPath)],
      // Monitoring reads the score from here (its `quality-score` output), not from `details`.
      outputs: { 'quality-score': { score, grade } },
      details: {
        score,
        grade,
        dimensionScores: scores,
        failedChecks,
        quarantinedRows: quarantined,
        checkDurationsMs: Object.fromEntries(durationsMs),
      },
      warnings,
    };
  }
}
