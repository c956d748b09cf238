/**
 * Each run's own log lines, kept in `pipeline.run_logs` with the stage and attempt they came from,
 * so an operator reads one stage's story without digging through the cluster's log stream. Lines
 * are scrubbed of secrets and of the data folder's path before they are kept, bounded per run, and written in batches in the
 * background; a failure to keep them never fails the run.
 */
import type pg from 'pg';
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
  /**
   * Lines kept per run (`pipeline.run_log_max_lines`): past it the first lines and the newest
   * tenth are kept, and one line between them says how many were left out.
   */
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

/**
 * Collects one run's lines and writes them to the run store, in order, in batches. Past the limit
 * it keeps the head (how the run began) and a window of the newest lines (how it ended: the
 * failure, "run finished"), written as they come so that they are there while the run goes on and
 * after its process dies; older lines of the window are deleted as newer ones arrive. Sequence
 * numbers count every line, so the gap after the marker line is the number left out.
 */
export class RunLogSink {
  private buffer: RunLogLine[] = [];
  private seq = 0;
  /** The last line of the head; the next number is the marker's, the window's start after it. */
  private readonly headLines: number;
  private readonly tailLines: number;
  /** How many lines the marker line says were left out, as last written. */
  private leftOutWritten = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly runId: string,
    /** What must not leave the process: the secrets, the data folder's path. */
    private readonly scrub: (text: string) => string,
    private readonly limits: RunLogLimits = DEFAULT_RUN_LOG_LIMITS,
  ) {
    this.tailLines = Math.max(1, Math.floor(limits.maxLines / 10));
    this.headLines = Math.max(0, limits.maxLines - this.tailLines - 1);
  }

  append(level: LogLevel, message: string, fields: LogFields): void {
    if (this.closed) return;
    // The marker's number is kept free between the head and the rest.
    if (this.seq === this.headLines) this.seq++;
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
    // A burst faster than the flush timer still holds no more than a run's limit in memory.
    if (this.buffer.length >= this.limits.maxLines) this.flush();
    else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.limits.flushEveryMs);
  }

  /** Writes what is left. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return this.writing;
    this.closed = true;
    clearTimeout(this.timer);
    this.flush();
    return this.writing;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const marker = this.headLines + 1;
    // Lines from after the marker up to here have left the window of the newest.
    const leftOutThrough = this.seq - this.tailLines;
    const batch = this.buffer.filter((l) => l.seq <= this.headLines || l.seq > leftOutThrough);
    this.buffer = [];
    const leftOut = leftOutThrough - marker;
    const statements: Array<[string, unknown[]]> = [];
    if (batch.length > 0)
      statements.push([
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
      ]);
    if (leftOut > 0 && leftOut !== this.leftOutWritten) {
      this.leftOutWritten = leftOut;
      statements.push(
        [
          `DELETE FROM pipeline.run_logs WHERE run_id = $1 AND seq > $2 AND seq <= $3`,
          [this.runId, marker, leftOutThrough],
        ],
        [
          `INSERT INTO pipeline.run_logs (run_id, seq, at, level, message) VALUES ($1, $2, now(), 'warn', $3)
           ON CONFLICT (run_id, seq) DO UPDATE SET at = excluded.at, message = excluded.message`,
          [
            this.runId,
            marker,
            `${leftOut} log lines of this run were left out here: the first ${this.headLines} and the newest ${this.tailLines} are kept (pipeline.run_log_max_lines: ${this.limits.maxLines})`,
          ],
        ],
      );
    }
    if (statements.length === 0) return;
    this.writing = this.writing.then(async () => {
      for (const [sql, params] of statements)
        // The stdout log has every line anyway; a run must not fail for want of its copy.
        await this.pool.query(sql, params).catch(() => undefined);
    });
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

export interface RunLogPage {
  /** Lines after this sequence number (0: from the start). */
  readonly after?: number;
  /** At most this many lines. */
  readonly limit: number;
}

/**
 * A page of a run's kept lines, in the order they were written, and the sequence number to ask
 * for the next page `after` (null when this page is the last one). Lines keep their sequence
 * numbers, so pages neither repeat nor skip a line while the run goes on writing.
 */
export async function readRunLog(
  pool: pg.Pool,
  runId: string,
  filter: RunLogFilter,
  page: RunLogPage,
): Promise<{ lines: RunLogLine[]; nextAfter: number | null }> {
  const levels = filter.level ? LOG_LEVELS.slice(LOG_LEVELS.indexOf(filter.level)) : LOG_LEVELS;
  // One line more than asked says whether there is a next page.
  const { rows } = await pool.query<RunLogLine & { at: Date }>(
    `SELECT seq, at, level, stage, attempt, message, fields FROM pipeline.run_logs
     WHERE run_id = $1 AND ($2::text IS NULL OR stage = $2) AND ($3::int IS NULL OR attempt = $3)
       AND level = ANY($4::text[]) AND seq > $5
     ORDER BY seq LIMIT $6`,
    [runId, filter.stage ?? null, filter.attempt ?? null, levels, page.after ?? 0, page.limit + 1],
  );
  const lines = rows.slice(0, page.limit).map((r) => ({ ...r, at: r.at.toISOString() }));
  return { lines, nextAfter: rows.length > page.limit ? lines[lines.length - 1]!.seq : null };
}
