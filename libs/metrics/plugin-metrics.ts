import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * A metric a plugin owns, declared in its manifest (`metrics`) and created by the kernel in the
 * daemon's registry when the plugin loads, so it is on `/metrics` before the first run. A stage
 * reaches it with `ctx.metrics.get(definition)`. Names are the plugin's promise to dashboards:
 * `pipeline_<what>_<unit>`, low-cardinality labels.
 */
export interface MetricDefinition<M = unknown> {
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
  /** Creates the metric in `registry` (the kernel calls it once per process). */
  create(registry: Registry): M;
}

interface Shape<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

export function gaugeMetric<L extends string = never>(shape: Shape<L>): MetricDefinition<Gauge<L>> {
  const labelNames = [...(shape.labelNames ?? [])];
  return {
    type: 'gauge',
    name: shape.name,
    help: shape.help,
    labelNames,
    create: (registry) =>
      new Gauge({ name: shape.name, help: shape.help, labelNames, registers: [registry] }),
  };
}

export function counterMetric<L extends string = never>(shape: Shape<L>): MetricDefinition<Counter<L>> {
  const labelNames = [...(shape.labelNames ?? [])];
  return {
    type: 'counter',
    name: shape.name,
    help: shape.help,
    labelNames,
    create: (registry) =>
      new Counter({ name: shape.name, help: shape.help, labelNames, registers: [registry] }),
  };
}

export function histogramMetric<L extends string = never>(
  shape: Shape<L> & { readonly buckets: readonly number[] },
): MetricDefinition<Histogram<L>> {
  const labelNames = [...(shape.labelNames ?? [])];
  return {
    type: 'histogram',
    name: shape.name,
    help: shape.help,
    labelNames,
    buckets: shape.buckets,
    create: (registry) =>
      new Histogram({
        name: shape.name,
        help: shape.help,
        labelNames,
        buckets: [...shape.buckets],
        registers: [registry],
      }),
  };
}

export type RowKind = 'read' | 'written' | 'rejected';

/** What a stage sees of the metrics: the kernel's row counter, and its own plugin's metrics. */
export interface StageMetrics {
  /** Adds to `pipeline_rows_total` (the kernel counts a succeeded stage's `rows` itself). */
  recordRows(stage: string, table: string, kind: RowKind, count: number): void;
  /** One of the metrics the plugin's manifest declares; any other is refused by name. */
  get<M>(definition: MetricDefinition<M>): M;
}

const sameShape = (a: MetricDefinition, b: MetricDefinition): boolean =>
  a.type === b.type &&
  a.help === b.help &&
  a.labelNames.join(',') === b.labelNames.join(',') &&
  (a.buckets ?? []).join(',') === (b.buckets ?? []).join(',');

/** The metrics of every loaded plugin, in the daemon's registry. */
export class PluginMetricsRegistry {
  private readonly byName = new Map<
    string,
    { definition: MetricDefinition; metric: unknown; owner: string }
  >();
  private readonly declared = new Map<string, ReadonlySet<string>>();

  constructor(private readonly registry: Registry) {}

  /**
   * Creates a plugin's metrics. Two plugins may declare the same metric only identically (the
   * quality score: the gate sets it, monitoring keeps it up to date); otherwise this throws
   * naming both, as does a name the daemon itself registers.
   */
  declare(plugin: string, definitions: readonly MetricDefinition[]): void {
    if (this.declared.has(plugin)) return;
    for (const definition of definitions) {
      const existing = this.byName.get(definition.name);
      if (existing) {
        if (!sameShape(existing.definition, definition))
          throw new Error(
            `metric ${definition.name} is declared differently by plugins ${existing.owner} and ${plugin}`,
          );
        continue;
      }
      if (this.registry.getSingleMetric(definition.name))
        throw new Error(`metric ${definition.name} of plugin ${plugin} is one the kernel registers`);
      this.byName.set(definition.name, {
        definition,
        metric: definition.create(this.registry),
        owner: plugin,
      });
    }
    this.declared.set(plugin, new Set(definitions.map((d) => d.name)));
  }

  /** The metrics `plugin` may use (those it declared). */
  scope(plugin: string, recordRows: StageMetrics['recordRows']): StageMetrics {
    const mine = this.declared.get(plugin) ?? new Set<string>();
    return {
      recordRows,
      get: <M>(definition: MetricDefinition<M>): M => {
        const entry = this.byName.get(definition.name);
        if (!entry || !mine.has(definition.name))
          throw new Error(
            `plugin ${plugin} uses metric ${definition.name}, which its manifest does not declare`,
          );
        return entry.metric as M;
      },
    };
  }
}
