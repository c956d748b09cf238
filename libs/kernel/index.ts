export * from './stage.js';
export { Stage, stageOptionsOf, STAGE_METADATA } from './stage.decorator.js';
export {
  PipelineError,
  PermanentError,
  RetryableError,
  FencedError,
  StageTimeoutError,
  GateClosedError,
  errorKind,
  type ErrorKind,
} from './errors.js';
export { sqlFile } from './sql-file.js';
export { SqlFileMigration } from './sql-file-migration.js';
export { CitusLayoutMigration } from './citus-layout-migration.js';
export { stepTimer, type TimedStep } from './step-timer.js';
export {
  StageRegistry,
  StageRegistryError,
  type StageDeclaration,
  type RegisteredStage,
} from './stage-registry.js';
export { retryDelayMs } from './retry-policy.js';
export {
  executeStages,
  systemClock,
  type Clock,
  type ExecutionObserver,
  type ExecutionPlan,
} from './stage-executor.js';
export { AdvisoryRunLock, InProcessRunLock, runLockFor, type RunLock, type RunLease } from './run-lock.js';
export { RunRepository, RunDateTakenError, type RunRow, type StageRunRow } from './run.repository.js';
export {
  RunService,
  RunLockedError,
  RunRequestError,
  type BackfillDate,
  type RunRequest,
  type StartedRun,
  type ActiveRun,
} from './run.service.js';
export { runObservers, type RunObserverContext } from './run-observers.js';
export { stageReport, type RunReport, type RunStatus, type StageReport } from './run-report.js';
export { FaultPoints, parseFaultPoints } from './fault-points.js';
export {
  RunCancellations,
  RunCancelledError,
  CancelRefusedError,
  fenceRunRecord,
  type CancelRequest,
} from './run-cancellation.js';
export { planRetry, RetryRefusedError, type RetryPlan } from './run-retry.js';
export {
  RunHistory,
  RunCursor,
  type RunFilter,
  type RunSummary,
  type RunDetail,
  type StageDetail,
  type StageAttempt,
} from './run-history.js';
export { WrittenFiles, isAsWritten, type WrittenFile } from './written-files.js';
export {
  businessDate,
  isIsoDate,
  datesBetween,
  runDateRefusal,
  refusedRunDate,
  type RunDateWindow,
} from './business-date.js';
export { definePlugin, pluginManifestSchema, type PluginManifest, type StageClass } from './plugin.js';
export {
  loadPlugins,
  loadPlugin,
  pluginFromModule,
  assertDistinct,
  assertReadsLoaded,
  stageDeclarations,
  pluginSchemaOwners,
  PluginLoadError,
  type LoadedPlugin,
} from './plugin-loader.js';
export { KERNEL_API_VERSION } from './api-version.js';
export { stageOutput, pipelineHealthOutput, type StageOutput } from './stage-output.js';
export { describePlugins, type PluginReport } from './plugin-report.js';
export { createKernel, type Kernel, type KernelOptions } from './kernel-factory.js';
export { KernelModule, type KernelRuntime } from './nest/kernel.module.js';
export { PipelineKernel } from './nest/pipeline-kernel.js';
export { RunScheduler, toCronExpression, previousTick } from './nest/run-scheduler.js';
export { CONFIG, DATABASE, LOGGER, METRICS, CODE_VERSION, PLUGINS } from './nest/kernel.tokens.js';
