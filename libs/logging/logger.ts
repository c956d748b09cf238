import pino, { type Logger as PinoLogger } from 'pino';
import { scrubSecrets, type Secret } from '../config/index.js';

export type LogFields = Readonly<Record<string, unknown>>;

/** Structured logging: one JSON line per event; a run's lines carry `runId` and `stage`. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line also carries `bindings` (e.g. `{ runId, stage }`). */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level: string;
  /** `auto`: human-readable on a terminal, JSON otherwise. */
  format?: 'auto' | 'json' | 'pretty';
  /** Values that must never be written, whatever field they hide in. */
  secrets?: readonly Secret[];
  destination?: NodeJS.WritableStream;
}

class PinoBackedLogger implements Logger {
  constructor(
    private readonly pino: PinoLogger,
    private readonly secrets: readonly Secret[],
  ) {}

  private write(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: LogFields): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const clean = scrubSecrets(message, this.secrets);
    if (fields) this.pino[level](this.scrubFields(fields), clean);
    else this.pino[level](clean);
  }

  private scrubFields(fields: LogFields): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      if (value instanceof Error)
        out[key] = { type: value.name, message: scrubSecrets(value.message, this.secrets) };
      else if (typeof value === 'string') out[key] = scrubSecrets(value, this.secrets);
      else out[key] = value;
    }
    return out;
  }

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }
  child(bindings: LogFields): Logger {
    return new PinoBackedLogger(this.pino.child(bindings), this.secrets);
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const pretty =
    options.format === 'pretty' ||
    (options.format !== 'json' && (destination as { isTTY?: boolean }).isTTY === true);
  const base = pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pretty
      ? pino.transport({
          target: 'pino-pretty',
          options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        })
      : (destination as pino.DestinationStream),
  );
  return new PinoBackedLogger(base, options.secrets ?? []);
}

/** Discards everything (unit tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
