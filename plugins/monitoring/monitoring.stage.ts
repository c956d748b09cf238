import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  Stage,
  pipelineHealthOutput,
  type MetricsRefreshContext,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '@pipeline/kernel';
import {
  LAYERS,
  VOLUME_ANOMALY_GAUGE,
  evaluateDatabase,
  evaluateFreshness,
  evaluateLastSuccess,
  evaluateQuality,
  evaluateRunStages,
  evaluateVolume,
  mainStagesSucceeded,
  summarize,
  unreadableCheck,
  type CheckResult,
} from './health-report.js';
import { monitoringConfigSchema, type MonitoringSettings } from './monitoring.config.js';
import { MonitoringReadings } from './monitoring.readings.js';
import { freshnessGauge, qualityScoreGauge, volumeAnomalyGauge } from './monitoring.metrics.js';
import { QUALITY_FOLDER, latestQualityScore, qualityScoreOutput } from './quality-score.js';

export const MONITORING_REPORT_FILE = 'monitoring_report.json';

/**
 * Health of the data, not only of the process: run recency, this run's stages, freshness per
 * layer, transaction volume, quality score and the database. Runs at the end of every run, also
 * after a failure. Unhealthy data is reported (report file, gauges, alerts in the details), never
 * thrown: the stage fails only when it cannot write its report.
 *
 * Recency and freshness are about now, so they use the clock; volume is about the run date.
 */
@Stage({
  name: 'monitoring',
  description:
    'Checks run recency, data freshness, volume, quality and the database; writes monitoring_report.json',
  phase: 'finally',
  config: { key: 'monitoring', schema: monitoringConfigSchema },
})
export class MonitoringStage implements PipelineStage<MonitoringSettings> {
  async run(ctx: StageContext<MonitoringSettings>): Promise<StageResult> {
    const settings = ctx.settings;
    const readings = new MonitoringReadings(ctx.db);
    const nowMs = Date.now();

    const attempt = async (
      check: string,
      evaluate: () => Promise<CheckResult>,
      severity?: 'critical',
    ): Promise<CheckResult> => {
      try {
        return await evaluate();
      } catch (error) {
        ctx.logger.warn('monitoring check could not read its data', { check, error: String(error) });
        return unreadableCheck(check, error, severity);
      }
    };

    const database = await attempt(
      'database',
      async () => evaluateDatabase(await readings.probe(), settings.database),
      'critical',
    );
    const lastSuccess = await attempt('last_success', async () =>
      evaluateLastSuccess({
        lastSuccess: await readings.lastSuccess(),
        currentRunSucceeding: mainStagesSucceeded(ctx.earlierStages),
        nowMs,
        maxHours: settings.max_hours_since_success,
      }),
    );
    const runStages = evaluateRunStages(ctx.earlierStages);
    const freshness = await attempt('freshness', async () => {
      const result = evaluateFreshness({
        newest: await readings.newestRowPerLayer(),
        nowMs,
        thresholds: settings.freshness,
      });
      for (const layer of LAYERS) {
        const lag = result.layers[layer].lag_seconds;
        if (lag !== null) ctx.metrics.get(freshnessGauge).set({ layer }, lag);
      }
      return result;
    });
    const volume = await attempt('volume', async () => {
      const result = evaluateVolume({
        runDate: ctx.runDate,
        reading: await readings.dailyVolume(ctx.runDate, settings.volume.history_days),
        sigma: settings.volume.sigma,
        minHistoryDays: settings.volume.min_history_days,
      });
      ctx.metrics.get(volumeAnomalyGauge).set(VOLUME_ANOMALY_GAUGE[result.state]);
      return result;
    });
    const quality = await attempt('quality', async () => {
      const reading = await latestQualityScore(
        ctx.outputOf(settings.quality_stage, qualityScoreOutput),
        settings.quality_stage,
        join(ctx.paths.root, QUALITY_FOLDER),
      );
      if (reading) ctx.metrics.get(qualityScoreGauge).set(reading.score);
      return evaluateQuality(reading, settings.min_quality_score);
    });

    const checks = { last_success: lastSuccess, run_stages: runStages, freshness, volume, quality, database };
    const summary = summarize(checks);
    const report = {
      run_id: ctx.runId,
      run_date: ctx.runDate,
      generated_at: new Date(nowMs).toISOString(),
      status: summary.status,
      health_score: summary.health_score,
      alerts: summary.alerts,
      checks: Object.fromEntries(
        Object.entries(checks).map(([name, { alerts: _alerts, ...check }]) => [name, check]),
      ),
    };

    const path = join(ctx.paths.own, MONITORING_REPORT_FILE);
    try {
      await mkdir(ctx.paths.own, { recursive: true });
      await writeFile(`${path}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
      await rename(`${path}.tmp`, path);
    } catch (error) {
      await rm(`${path}.tmp`, { force: true });
      throw error;
    }

    const level = summary.status === 'healthy' ? 'info' : 'warn';
    ctx.logger[level]('monitoring report written', {
      status: summary.status,
      health_score: summary.health_score,
      alerts: summary.alerts.length,
    });
    return {
      files: [relative(ctx.paths.root, path)],
      details: { status: summary.status, health_score: summary.health_score, alerts: summary.alerts },
      outputs: {
        [pipelineHealthOutput.name]: {
          status: summary.status,
          health_score: summary.health_score,
          alerts: summary.alerts,
        },
      },
      warnings: summary.alerts.map((a) => `${a.severity}: ${a.message}`),
    };
  }

  /**
   * Every replica keeps the data gauges right between runs (after a restart, or while another
   * replica runs the pipeline): freshness now, the volume of the last successful run's date, and
   * the latest quality score on file.
   */
  async refreshMetrics(ctx: MetricsRefreshContext<MonitoringSettings>): Promise<void> {
    const readings = new MonitoringReadings(ctx.db);
    const freshness = evaluateFreshness({
      newest: await readings.newestRowPerLayer(),
      nowMs: Date.now(),
      thresholds: ctx.settings.freshness,
    });
    for (const layer of LAYERS) {
      const lag = freshness.layers[layer].lag_seconds;
      if (lag !== null) ctx.metrics.get(freshnessGauge).set({ layer }, lag);
    }
    const last = await readings.lastSuccess();
    if (last) {
      const volume = evaluateVolume({
        runDate: last.runDate,
        reading: await readings.dailyVolume(last.runDate, ctx.settings.volume.history_days),
        sigma: ctx.settings.volume.sigma,
        minHistoryDays: ctx.settings.volume.min_history_days,
      });
      ctx.metrics.get(volumeAnomalyGauge).set(VOLUME_ANOMALY_GAUGE[volume.state]);
    }
    const quality = await latestQualityScore(
      undefined,
      ctx.settings.quality_stage,
      join(ctx.paths.root, QUALITY_FOLDER),
    ).catch(() => null);
    if (quality) ctx.metrics.get(qualityScoreGauge).set(quality.score);
  }
}
