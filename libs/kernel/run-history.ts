/**
 * The run history as an operator searches it: filtered by status, trigger, business-date range
 * and failed stage, with the total count, in a stable order (newest first, the id breaking ties,
 * so a page never repeats or skips a run that was there when paging began); and one run in full,
 * each stage with its attempts.
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
  readonly offset: number;
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

  async find(filter: RunFilter): Promise<{ runs: RunSummary[]; total: number }> {
    const params = [
      filter.status ?? null,
      filter.trigger ?? null,
      filter.runDateFrom ?? null,
      filter.runDateTo ?? null,
      filter.failedStage ?? null,
    ];
    const [page, count] = await Promise.all([
      this.pool.query<RunSummary>(
        `SELECT ${SUMMARY_COLUMNS} FROM pipeline.runs r WHERE ${FILTER}
         ORDER BY r.started_at DESC, r.id DESC LIMIT $6 OFFSET $7`,
        [...params, filter.limit, filter.offset],
      ),
      this.pool.query<{ total: number }>(
        `SELECT count(*)::int AS total FROM pipeline.runs r WHERE ${FILTER}`,
        params,
      ),
    ]);
    return { runs: page.rows, total: count.rows[0]!.total };
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
