import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import {
  PluginMetricsRegistry,
  type MetricDefinition,
  type RowKind,
  type StageMetrics,
} from './plugin-metrics.js';

/**
 * The kernel's metrics, which the dashboards and alerts are built on, and (in the same registry)
 * those the plugins declare. Their names are a contract (daemon.md "Metrics"); labels stay
 * low-cardinality: no run ids, no row ids.
 */
export class PipelineMetrics {
  readonly registry = new Registry();

  readonly runsTotal = new Counter({
    name: 'pipeline_runs_total',
    help: 'Pipeline runs finished, by final status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly runDuration = new Histogram({
    name: 'pipeline_run_duration_seconds',
    help: 'Wall time of whole pipeline runs.',
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  readonly stageDuration = new Histogram({
    name: 'pipeline_stage_duration_seconds',
    help: 'Wall time of one stage (all attempts; a stage run alongside its gate includes that time).',
    labelNames: ['stage'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [this.registry],
  });
  readonly stageAttempts = new Counter({
    name: 'pipeline_stage_attempts_total',
    help: 'Stage attempts, by how each ended.',
    labelNames: ['stage', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly rowsTotal = new Counter({
    name: 'pipeline_rows_total',
    help: 'Rows moved by stages, per table and kind (read, written, rejected).',
    labelNames: ['stage', 'table', 'kind'] as const,
    registers: [this.registry],
  });
  readonly lastSuccess = new Gauge({
    name: 'pipeline_last_success_timestamp_seconds',
    help: 'Unix time at which the last successful run finished (0: none yet).',
    registers: [this.registry],
  });
  readonly lockHeld = new Gauge({
    name: 'pipeline_lock_held',
    help: '1 while this process holds the run lock.',
    registers: [this.registry],
  });
  readonly lockContended = new Counter({
    name: 'pipeline_lock_contended_total',
    help: 'Runs not started because another process held the run lock.',
    registers: [this.registry],
  });

  readonly pluginInfo = new Gauge({
    name: 'pipeline_plugin_info',
    help: 'The plugins loaded, by package and version (always 1).',
    labelNames: ['plugin', 'version'] as const,
    registers: [this.registry],
  });

  readonly databaseUp = new Gauge({
    name: 'pipeline_database_up',
    help: '1 when the last database probe succeeded, 0 when it failed.',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.lockHeld.set(0);
    this.lastSuccess.set(0);
    for (const status of ['succeeded', 'failed'] as const) this.runsTotal.inc({ status }, 0);
    this.lockContended.inc(0);
  }

  private readonly plugins = new PluginMetricsRegistry(this.registry);

  recordRows(stage: string, table: string, kind: RowKind, count: number): void {
    if (count > 0) this.rowsTotal.inc({ stage, table, kind }, count);
  }

  /** Creates a plugin's declared metrics (once; identical declarations are shared). */
  declarePluginMetrics(plugin: string, definitions: readonly MetricDefinition[]): void {
    this.plugins.declare(plugin, definitions);
  }

  /** What a stage of `plugin` sees: `pipeline_rows_total` and the metrics its plugin declared. */
  forPlugin(plugin: string): StageMetrics {
    return this.plugins.scope(plugin, (stage, table, kind, count) =>
      this.recordRows(stage, table, kind, count),
    );
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
