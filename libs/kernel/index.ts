export * from './stage.js';
export { Stage, stageOptionsOf, STAGE_METADATA } from './stage.decorator.js';
export { PipelineError, PermanentError, RetryableError, FencedError, StageTimeoutError, errorKind, type ErrorKind } from './errors.js';
export { sqlFile } from './sql-file.js';
export { createStageDatabase, type FenceCheck, type StageDatabaseOptions } from './stage-database.js';
