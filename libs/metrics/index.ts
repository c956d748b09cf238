export {
  PipelineMetrics,
  type RowKind,
  type RunStatusLabel,
  type AttemptOutcome,
} from './pipeline-metrics.js';
