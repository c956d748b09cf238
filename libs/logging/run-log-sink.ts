/**
 * Each run's own log lines, kept in `pipeline.run_logs` with the stage and attempt they came from,
 * so an operator reads one stage's story without digging through the cluster's log stream. Lines
 * are scrubbed of secrets before they are kept, bounded per run, and written in batches in the
 * background; a failure to keep them never fails the run.
 */
import type pg from 'pg';
import { scrubSecrets, type Secret } from '../config/index.js';
import type { LogFields, Logger } from './logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface RunLogLine {
  readonly seq: number;
  readonly at: string;
  readonly level: LogLevel;
  readonly stage: string | null;
  readonly attempt: number | null;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>> | null;
}

export interface RunLogLimits {
  /** Lines kept per run; past it one closing line says how many more were not kept. */
  readonly maxLines: number;
  /** A longer message is cut; fields whose JSON is longer are replaced by a note. */
  readonly maxMessageChars: number;
  readonly maxFieldsChars: number;
  /** How long a line may wait in memory before it is written. */
  readonly flushEveryMs: number;
}

export const DEFAULT_RUN_LOG_LIMITS: RunLogLimits = {
  maxLines: 10_000,
  maxMessageChars: 2_000,
  maxFieldsChars: 8_000,
  flushEveryMs: 500,
};

/** Collects one run's lines and writes them to the run store, in order, in batches. */
export class RunLogSink {
  private buffer: RunLogLine[] = [];
  private seq = 0;
  private dropped = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly runId: string,
    private readonly secrets: readonly Secret[],
    private readonly limits: RunLogLimits = DEFAULT_RUN_LOG_LIMITS,
  ) {}

  append(level: LogLevel, message: string, fields: LogFields): void {
    if (this.closed) return;
    if (this.seq >= this.limits.maxLines) {
      this.dropped++;
      return;
    }
    const { stage, attempt, ...rest } = fields;
    this.buffer.push({
      seq: ++this.seq,
      at: new Date().toISOString(),
      level,
      stage: typeof stage === 'string' ? stage : null,
      attempt: typeof attempt === 'number' ? attempt : null,
      message: this.scrub(message).slice(0, this.limits.maxMessageChars),
      fields: this.keptFields(rest),
    });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.limits.flushEveryMs);
  }

  /** Writes what is left, and a closing line when lines were dropped. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return this.writing;
    this.closed = true;
    clearTimeout(this.timer);
    if (this.dropped > 0)
      this.buffer.push({
        seq: ++this.seq,
        at: new Date().toISOString(),
        level: 'warn',
        stage: null,
        attempt: null,
        message: `${this.dropped} further log lines of this run were not kept (limit ${this.limits.maxLines} a run)`,
        fields: null,
      });
    this.flush();
    return this.writing;
  }

  private flush(): void {
    const batch = this.buffer;
    if (batch.length === 0) return;
    this.buffer = [];
    this.writing = this.writing.then(() =>
      this.pool
        .query(
          `INSERT INTO pipeline.run_logs (run_id, seq, at, level, stage, attempt, message, fields)
           SELECT $1, * FROM unnest($2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::int[], $7::text[], $8::jsonb[])`,
          [
            this.runId,
            batch.map((l) => l.seq),
            batch.map((l) => l.at),
            batch.map((l) => l.level),
            batch.map((l) => l.stage),
            batch.map((l) => l.attempt),
            batch.map((l) => l.message),
            batch.map((l) => (l.fields ? JSON.stringify(l.fields) : null)),
          ],
        )
        // The stdout log has every line anyway; a run must not fail for want of its copy.
        .then(
          () => undefined,
          () => undefined,
        ),
    );
  }

  private keptFields(fields: LogFields): Record<string, unknown> | null {
    if (Object.keys(fields).length === 0) return null;
    const plain: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields))
      plain[key] = value instanceof Error ? { type: value.name, message: value.message } : value;
    // Scrubbed as text, so that a secret nested anywhere in the fields is caught.
    const text = this.scrub(JSON.stringify(plain));
    if (text.length > this.limits.maxFieldsChars)
      return { truncated: `fields of ${text.length} characters were not kept` };
    return JSON.parse(text) as Record<string, unknown>;
  }

  private scrub(text: string): string {
    return scrubSecrets(text, this.secrets);
  }
}

/**
 * A logger that writes as `base` does and keeps a copy of each line in `sink`, with the bindings
 * of its children (a stage's logger carries `stage` and `attempt`).
 */
export function recordingLogger(base: Logger, sink: RunLogSink, bindings: LogFields = {}): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      base[level](message, fields);
      sink.append(level, message, { ...bindings, ...fields });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(base.child(more), sink, { ...bindings, ...more }),
  };
}

export interface RunLogFilter {
  readonly stage?: string;
  readonly attempt?: number;
  /** This level and above. */
  readonly level?: LogLevel;
}

/** A run's kept lines, in the order they were written. */
export async function readRunLog(
  pool: pg.Pool,
  runId: string,
  filter: RunLogFilter = {},
): Promise<RunLogLine[]> {
  const levels = filter.level ? LOG_LEVELS.slice(LOG_LEVELS.indexOf(filter.level)) : LOG_LEVELS;
  const { rows } = await pool.query<RunLogLine & { at: Date }>(
    `SELECT seq, at, level, stage, attempt, message, fields FROM pipeline.run_logs
     WHERE run_id = $1 AND ($2::text IS NULL OR stage = $2) AND ($3::int IS NULL OR attempt = $3)
       AND level = ANY($4::text[])
     ORDER BY seq`,
    [runId, filter.stage ?? null, filter.attempt ?? null, levels],
  );
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
}
