export { createLogger, silentLogger, type Logger, type LogFields, type LoggerOptions } from './logger.js';
export {
  RunLogSink,
  recordingLogger,
  readRunLog,
  DEFAULT_RUN_LOG_LIMITS,
  LOG_LEVELS,
  type LogLevel,
  type RunLogLine,
  type RunLogLimits,
  type RunLogFilter,
} from './run-log-sink.js';
