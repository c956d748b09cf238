/**
 * The run history as an operator searches it: filtered by status, trigger, business-date range
 * and failed stage, with the total count, newest first (the id breaking ties); paged by a cursor
 * (the start and id of the last run seen), so a page neither repeats nor skips a run when runs
 * start or are pruned between pages; and one run in full, each stage with its attempts.
 */
import type pg from 'pg';
import type { RunReport, RunStatus } from './run-report.js';
import type { RunTrigger, StageStatus } from './stage.js';

export interface RunFilter {
  readonly status?: RunStatus;
  readonly trigger?: RunTrigger;
  /** Business dates from (inclusive). */
  readonly runDateFrom?: string;
  /** Business dates to (inclusive). */
  readonly runDateTo?: string;
  /** Runs in which this stage failed. */
  readonly failedStage?: string;
  readonly limit: number;
  /** Runs older than this one (`RunCursor.encode` of the last run of the page before). */
  readonly before?: RunCursor;
  /** Runs to pass over first; a cursor (`before`) pages stably, an offset does not. */
  readonly offset?: number;
}

/**
 * Where a page of runs ends: the last run's start, in microseconds as the database keeps it (a
 * JavaScript Date would round it to milliseconds), and its id. Written `<micros>_<id>`.
 */
export class RunCursor {
  static readonly PATTERN = /^(\d{1,18})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
  constructor(
    readonly startedMicros: string,
    readonly id: string,
  ) {}
  static parse(text: string): RunCursor | null {
    const match = RunCursor.PATTERN.exec(text);
    return match ? new RunCursor(match[1]!, match[2]!.toLowerCase()) : null;
  }
  encode(): string {
    return `${this.startedMicros}_${this.id}`;
  }
}

export interface RunSummary {
  readonly id: string;
  readonly trigger: RunTrigger;
  readonly run_date: string;
  readonly status: RunStatus;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly duration_ms: number;
  readonly error: string | null;
  readonly resumed_from: string | null;
  readonly cancel_requested_at: Date | null;
  /** The main stages that failed, in run order. */
  readonly failed_stages: string[];
}

export interface StageAttempt {
  readonly attempt: number;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly duration_ms: number | null;
  readonly outcome: string;
  readonly error: string | null;
  readonly retry_delay_ms: number | null;
}

export interface StageDetail {
  readonly stage: string;
  readonly position: number;
  readonly status: StageStatus;
  readonly attempts: number;
  readonly started_at: Date | null;
  readonly finished_at: Date | null;
  readonly duration_ms: number | null;
  readonly rows: ReadonlyArray<{ table: string; read?: number; written?: number; rejected?: number }>;
  readonly error: string | null;
  readonly error_kind: string | null;
  readonly attempt_history: StageAttempt[];
}

export interface RunDetail extends RunSummary {
  readonly host: string | null;
  readonly pid: number | null;
  readonly requested_stages: string[] | null;
  readonly code_version: string;
  readonly config_hash: string;
  readonly heartbeat_at: Date;
  readonly cancel_requested_by: string | null;
  readonly report: RunReport | null;
  readonly stages: StageDetail[];
}

const SUMMARY_COLUMNS = `r.id, r.trigger, to_char(r.run_date, 'YYYY-MM-DD') AS run_date, r.status, r.started_at,
  r.finished_at, (extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at) * 1000)::bigint::int AS duration_ms,
  r.error, r.resumed_from, r.cancel_requested_at,
  ARRAY(SELECT s.stage FROM pipeline.stage_runs s WHERE s.run_id = r.id AND s.status = 'failed' ORDER BY s.position) AS failed_stages`;

const FILTER = `($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR r.trigger = $2)
  AND ($3::date IS NULL OR r.run_date >= $3) AND ($4::date IS NULL OR r.run_date <= $4)
  AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM pipeline.stage_runs f WHERE f.run_id = r.id AND f.stage = $5 AND f.status = 'failed'))`;

export class RunHistory {
  constructor(private readonly pool: pg.Pool) {}

  /** One page, and the cursor of the next (null after the last page). */
  async find(filter: RunFilter): Promise<{ runs: RunSummary[]; total: number; next: RunCursor | null }> {
    const params = [
      filter.status ?? null,
      filter.trigger ?? null,
      filter.runDateFrom ?? null,
      filter.runDateTo ?? null,
      filter.failedStage ?? null,
    ];
    // One run more than asked says whether there is a next page.
    const [page, count] = await Promise.all([
      this.pool.query<RunSummary & { started_micros: string }>(
        `SELECT ${SUMMARY_COLUMNS}, (extract(epoch FROM r.started_at) * 1000000)::bigint::text AS started_micros
         FROM pipeline.runs r WHERE ${FILTER}
           AND ($8::bigint IS NULL
             OR (r.started_at, r.id) < ('epoch'::timestamptz + $8::bigint * interval '1 microsecond', $9::uuid))
         ORDER BY r.started_at DESC, r.id DESC LIMIT $6 OFFSET $7`,
        [
          ...params,
          filter.limit + 1,
          filter.offset ?? 0,
          filter.before?.startedMicros ?? null,
          filter.before?.id ?? null,
        ],
      ),
      this.pool.query<{ total: number }>(
        `SELECT count(*)::int AS total FROM pipeline.runs r WHERE ${FILTER}`,
        params,
      ),
    ]);
    const runs = page.rows.slice(0, filter.limit).map(({ started_micros: _, ...run }) => run);
    const last = page.rows[filter.limit - 1];
    const next = page.rows.length > filter.limit && last ? new RunCursor(last.started_micros, last.id) : null;
    return { runs, total: count.rows[0]!.total, next };
  }

  async detail(runId: string): Promise<RunDetail | null> {
    const { rows } = await this.pool.query<RunDetail>(
      `SELECT ${SUMMARY_COLUMNS}, r.host, r.pid, r.requested_stages, r.code_version, r.config_hash, r.heartbeat_at,
         r.cancel_requested_by, r.report
       FROM pipeline.runs r WHERE r.id = $1`,
      [runId],
    );
    const run = rows[0];
    if (!run) return null;
    const [stages, attempts] = await Promise.all([
      this.pool.query<Omit<StageDetail, 'attempt_history'>>(
        `SELECT stage, position, status, attempts, started_at, finished_at, duration_ms, rows, error, error_kind
         FROM pipeline.stage_runs WHERE run_id = $1 ORDER BY position`,
        [runId],
      ),
      this.pool.query<StageAttempt & { stage: string }>(
        `SELECT stage, attempt, started_at, finished_at,
           (extract(epoch FROM finished_at - started_at) * 1000)::bigint::int AS duration_ms,
           outcome, error, retry_delay_ms
         FROM pipeline.stage_attempts WHERE run_id = $1 ORDER BY stage, attempt`,
        [runId],
      ),
    ]);
    return {
      ...run,
      stages: stages.rows.map((s) => ({
        ...s,
        attempt_history: attempts.rows
          .filter((a) => a.stage === s.stage)
          .map(({ stage: _stage, ...attempt }) => attempt),
      })),
    };
  }
}
