/**
 * `@pipeline/kernel`: what a stage plugin may rely on. A plugin imports this package by name and
 * nothing else of the daemon; everything not exported here may change in any release. The
 * package's version (`KERNEL_API_VERSION`) follows semver for this surface: a plugin declares the
 * range it supports (peer dependency, manifest `kernelApi`) and the kernel refuses it otherwise.
 */
export { KERNEL_API_VERSION } from './kernel/api-version.js';
export * from './kernel/stage.js';
export { Stage, stageOptionsOf } from './kernel/stage.decorator.js';
export { definePlugin, type PluginManifest, type StageClass } from './kernel/plugin.js';
export { stageOutput, pipelineHealthOutput, type StageOutput } from './kernel/stage-output.js';
export {
  gaugeMetric,
  counterMetric,
  histogramMetric,
  type MetricDefinition,
  type StageMetrics,
  type RowKind,
} from './metrics/index.js';
export {
  PipelineError,
  PermanentError,
  RetryableError,
  FencedError,
  StageTimeoutError,
  GateClosedError,
  errorKind,
  type ErrorKind,
} from './kernel/errors.js';
export { sqlFile } from './kernel/sql-file.js';
export { SqlFileMigration } from './kernel/sql-file-migration.js';
export { CitusLayoutMigration } from './kernel/citus-layout-migration.js';
export type { MigrationClass } from './database/index.js';
export type { MigrationInterface, QueryRunner } from 'typeorm';
export { stepTimer, type TimedStep } from './kernel/step-timer.js';
export { WrittenFiles, isAsWritten, type WrittenFile } from './kernel/written-files.js';
export { isIsoDate } from './kernel/business-date.js';
export {
  EARLIEST_BUSINESS_DATE,
  LAST_BUSINESS_DATE,
  MAX_DAYS_AFTER_RUN_DATE,
  addDays,
  latestBusinessDate,
  RAW_FOLDER,
  RAW_CSV_COLUMNS,
  rawFileName,
  type RawFile,
} from './contract/index.js';
export { CsvRecordScanner, LOCK_NAMESPACE, citusPresent, type CopyTarget } from './database/index.js';
