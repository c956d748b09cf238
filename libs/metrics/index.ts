export { PipelineMetrics } from './pipeline-metrics.js';
export {
  gaugeMetric,
  counterMetric,
  histogramMetric,
  PluginMetricsRegistry,
  type MetricDefinition,
  type RowKind,
  type StageMetrics,
} from './plugin-metrics.js';
