export { createLogger, silentLogger, type Logger, type LogFields, type LoggerOptions } from './logger.js';
