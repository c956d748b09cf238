export { PipelineMetrics, type RowKind } from './pipeline-metrics.js';
