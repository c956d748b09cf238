import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { AppConfig } from '../../config/index.js';
import type { Database } from '../../database/index.js';
import type { Logger } from '../../logging/index.js';
import type { PipelineMetrics } from '../../metrics/index.js';
import type { RunRepository } from '../run.repository.js';
import type { RunService } from '../run.service.js';
import { stagePaths } from '../stage-contexts.js';
import { createKernel } from '../kernel-factory.js';
import type { LoadedPlugin } from '../plugin-loader.js';
import { describePlugins, type PluginReport } from '../plugin-report.js';
import type { StageRegistry } from '../stage-registry.js';
import type { MetricsRefreshContext } from '../stage.js';
import { businessDate } from '../business-date.js';
import { createStageDatabase } from '../stage-database.js';
import { CODE_VERSION, CONFIG, DATABASE, LOGGER, METRICS, PLUGINS } from './kernel.tokens.js';

/**
 * Builds the stages of the loaded plugins, validates the set, and owns the run service.
 * Start-up fails here, naming the plugin, on any wiring mistake.
 */
@Injectable()
export class PipelineKernel implements OnModuleInit {
  private registryValue: StageRegistry | null = null;
  private runsValue: RunService | null = null;
  private storeValue: RunRepository | null = null;

  constructor(
    @Inject(CONFIG) readonly config: AppConfig,
    @Inject(DATABASE) readonly db: Database,
    @Inject(LOGGER) readonly logger: Logger,
    @Inject(METRICS) readonly metrics: PipelineMetrics,
    @Inject(CODE_VERSION) readonly codeVersion: string,
    @Inject(PLUGINS) readonly plugins: readonly LoadedPlugin[],
  ) {}

  onModuleInit(): void {
    const kernel = createKernel({
      config: this.config,
      db: this.db,
      logger: this.logger,
      metrics: this.metrics,
      codeVersion: this.codeVersion,
      plugins: this.plugins,
    });
    this.registryValue = kernel.registry;
    this.runsValue = kernel.runs;
    this.storeValue = kernel.store;
  }

  /** The loaded plugins, with their stages and their migrations applied and pending. */
  describePlugins(): Promise<PluginReport[]> {
    return describePlugins(this.db, this.plugins);
  }

  get store(): RunRepository {
    if (!this.storeValue) throw new Error('the kernel is not initialised yet');
    return this.storeValue;
  }

  /**
   * Brings the gauges that describe the data (last success, and whatever stages refresh) up to
   * date from the database: a restarted or idle replica must not report zeros or stale values.
   * When `signal` aborts (the daemon stops), the statements it runs are cancelled on the server,
   * as a stage's are: a refresh waiting for a lock must not keep the process from exiting.
   */
  async refreshMetrics(signal: AbortSignal = new AbortController().signal): Promise<void> {
    try {
      const last = await this.store.lastSuccessAt();
      if (last) this.metrics.lastSuccess.set(last.getTime() / 1000);
    } catch (error) {
      this.logger.warn('could not read the last successful run', { error: error as Error });
    }
    const db: MetricsRefreshContext['db'] = createStageDatabase(this.db, {
      statementTimeoutMs: this.config.database.statement_timeout_ms,
      connections: this.config.database.pool_size,
      signal,
      fence: async () => undefined,
      abandonAfterMs: this.config.pipeline.stop_grace_ms,
    });
    for (const stage of this.registry.ordered) {
      if (signal.aborted) return;
      if (!stage.enabled || !stage.instance.refreshMetrics) continue;
      try {
        await stage.instance.refreshMetrics({
          settings: stage.settings,
          paths: stagePaths(this.config.dataDir, stage.dataFolder, this.config.pipeline.written_files),
          today: businessDate(new Date(), this.config.scheduler.timezone),
          db,
          metrics: this.metrics.forPlugin(stage.plugin),
          logger: this.logger.child({ plugin: stage.plugin, stage: stage.name }),
        });
      } catch (error) {
        if (!signal.aborted)
          this.logger.warn('could not refresh stage metrics', { stage: stage.name, error: error as Error });
      }
    }
  }

  /** Serve mode: refresh now, after every run, and every `intervalMs`. Returns a stop function. */
  startMetricsRefresh(intervalMs: number): () => void {
    const stopped = new AbortController();
    const refresh = (): void => void this.refreshMetrics(stopped.signal);
    refresh();
    this.runs.on('finished', refresh);
    const timer = setInterval(refresh, intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.runs.off('finished', refresh);
      stopped.abort(new Error('the daemon is stopping'));
    };
  }

  get registry(): StageRegistry {
    if (!this.registryValue) throw new Error('the kernel is not initialised yet');
    return this.registryValue;
  }

  get runs(): RunService {
    if (!this.runsValue) throw new Error('the kernel is not initialised yet');
    return this.runsValue;
  }
}
