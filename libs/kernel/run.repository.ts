import type pg from 'pg';
import type { RunReport, RunStatus } from './run-report.js';
import type { RunTrigger, StageStatus, StageTransaction } from './stage.js';

export interface RunRow {
  id: string;
  trigger: RunTrigger;
  run_date: string;
  status: RunStatus;
  owner: string;
  host: string | null;
  pid: number | null;
  requested_stages: string[] | null;
  resumed_from: string | null;
  code_version: string;
  config_hash: string;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  error: string | null;
}

export interface StageRunRow {
  stage: string;
  position: number;
  status: StageStatus;
  attempts: number;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  error: string | null;
  error_kind: string | null;
}

export interface NewRun {
  id: string;
  trigger: RunTrigger;
  runDate: string;
  /** The cron tick of a scheduled run (its unique key with the run date). */
  scheduledFor: Date | null;
  owner: string;
  host: string;
  pid: number;
  requestedStages: readonly string[] | null;
  resumedFrom: string | null;
  codeVersion: string;
  configHash: string;
  stages: readonly string[];
}

/** A scheduled run for that tick (business date) already exists: another replica ran it. */
export class RunDateTakenError extends Error {
  constructor(readonly runDate: string) {
    super(`a scheduled run for ${runDate} already exists`);
  }
}

const RUN_COLUMNS = `id, trigger, to_char(run_date, 'YYYY-MM-DD') AS run_date, status, owner, host, pid, requested_stages,
  resumed_from, code_version, config_hash, started_at, heartbeat_at, finished_at, error`;

/**
 * The run history in the `pipeline` schema. State changes are guarded updates
 * (`WHERE status = 'running' AND owner = $token`): a process that lost its run cannot write to it.
 */
export class RunRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * The fencing query: inside the stage's transaction, whether run `runId` is still running and
   * still `owner`'s (another process marks the runs of dead processes abandoned), and who asked to
   * cancel it, if anyone did (`pipeline cancel`, `POST /runs/:id/cancel`, from any replica).
   */
  async fenceState(
    tx: Pick<StageTransaction, 'query'>,
    runId: string,
    owner: string,
  ): Promise<
    { ours: false } | { ours: true; cancelled: boolean; cancelledBy: string | null; cancelledAt: Date | null }
  > {
    const { rows } = await tx.query<{ cancelled_by: string | null; cancelled_at: Date | null }>(
      `SELECT cancel_requested_at AS cancelled_at, cancel_requested_by AS cancelled_by
       FROM pipeline.runs WHERE id = $1 AND owner = $2 AND status = 'running'`,
      [runId, owner],
    );
    if (!rows[0]) return { ours: false };
    const { cancelled_at: cancelledAt, cancelled_by: cancelledBy } = rows[0];
    return { ours: true, cancelled: cancelledAt !== null, cancelledBy, cancelledAt };
  }

  async create(run: NewRun): Promise<void> {
    const client = await this.pool.connect();
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO pipeline.runs (id, trigger, run_date, scheduled_for, status, owner, host, pid, requested_stages, resumed_from, code_version, config_hash)
         VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8, $9, $10, $11)`,
        [
          run.id,
          run.trigger,
          run.runDate,
          run.scheduledFor,
          run.owner,
          run.host,
          run.pid,
          run.requestedStages,
          run.resumedFrom,
          run.codeVersion,
          run.configHash,
        ],
      );
      await client.query(
        `INSERT INTO pipeline.stage_runs (run_id, stage, position, status)
         SELECT $1, stage, position::int, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS s(stage, position)`,
        [run.id, run.stages],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((error as { code?: string }).code === '23505') throw new RunDateTakenError(run.runDate);
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken ? true : undefined);
    }
  }

  /**
   * Marks every run still `running` as abandoned. Only the new holder of the run lock calls this,
   * so no live process owns such a run any more: its holder died or lost the lock (and is fenced).
   */
  async abandonOrphans(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE pipeline.runs SET status = 'abandoned', finished_at = now(),
         error = format('abandoned: its process stopped or lost the run lock (last heartbeat %s ago)',
                        date_trunc('second', now() - heartbeat_at))
       WHERE status = 'running'
       RETURNING id`,
    );
    if (rows.length) {
      await this.pool.query(
        `UPDATE pipeline.stage_runs SET status = 'failed', error = 'abandoned with its run', finished_at = now()
         WHERE run_id = ANY($1::uuid[]) AND status = 'running'`,
        [rows.map((r) => r.id)],
      );
    }
    return rows.map((r) => r.id);
  }

  /** Returns false when the run is no longer ours (abandoned by another process). */
  async heartbeat(runId: string, owner: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE pipeline.runs SET heartbeat_at = now() WHERE id = $1 AND owner = $2 AND status = 'running'`,
      [runId, owner],
    );
    return rowCount === 1;
  }

  async stageStarted(runId: string, stage: string): Promise<void> {
    await this.pool.query(
      `UPDATE pipeline.stage_runs SET status = 'running', started_at = now() WHERE run_id = $1 AND stage = $2`,
      [runId, stage],
    );
  }

  async attemptStarted(runId: string, stage: string, attempt: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO pipeline.stage_attempts (run_id, stage, attempt, started_at, outcome) VALUES ($1, $2, $3, now(), 'running')
       ON CONFLICT (run_id, stage, attempt) DO NOTHING`,
      [runId, stage, attempt],
    );
    await this.pool.query(`UPDATE pipeline.stage_runs SET attempts = $3 WHERE run_id = $1 AND stage = $2`, [
      runId,
      stage,
      attempt,
    ]);
  }

  async attemptFinished(
    runId: string,
    stage: string,
    attempt: number,
    outcome: string,
    error: string | null,
    retryDelayMs: number | null,
  ): Promise<void> {
    await this.pool.query(
      `UPDATE pipeline.stage_attempts SET finished_at = now(), outcome = $4, error = $5, retry_delay_ms = $6
       WHERE run_id = $1 AND stage = $2 AND attempt = $3`,
      [runId, stage, attempt, outcome, error, retryDelayMs],
    );
  }

  async stageFinished(
    runId: string,
    stage: {
      stage: string;
      status: StageStatus;
      attempts: number;
      durationMs: number | null;
      rows: unknown;
      details: unknown;
      error: string | null;
      errorKind: string | null;
      inputFingerprint: string | null;
    },
  ): Promise<void> {
    await this.pool.query(
      `UPDATE pipeline.stage_runs SET status = $3, attempts = $4, duration_ms = $5, rows = $6, details = $7, error = $8, error_kind = $9,
         input_fingerprint = $10, finished_at = CASE WHEN $3 = 'skipped' THEN NULL ELSE now() END
       WHERE run_id = $1 AND stage = $2`,
      [
        runId,
        stage.stage,
        stage.status,
        stage.attempts,
        stage.durationMs,
        JSON.stringify(stage.rows ?? []),
        stage.details === null ? null : JSON.stringify(stage.details),
        stage.error,
        stage.errorKind,
        stage.inputFingerprint,
      ],
    );
  }

  /** Guarded: only the owner of a running run can finish it. */
  async finish(runId: string, owner: string, status: RunStatus, report: RunReport): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE pipeline.runs SET status = $3, finished_at = now(), error = $4, report = $5
       WHERE id = $1 AND owner = $2 AND status = 'running'`,
      [runId, owner, status, report.error, JSON.stringify(report)],
    );
    return rowCount === 1;
  }

  async recordSkip(
    trigger: RunTrigger,
    runDate: string,
    reason: string,
    host: string,
    pid: number,
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO pipeline.run_skips (trigger, run_date, reason, host, pid) VALUES ($1, $2, $3, $4, $5)`,
      [trigger, runDate, reason, host, pid],
    );
  }

  async get(runId: string): Promise<(RunRow & { report: RunReport | null; stages: StageRunRow[] }) | null> {
    const { rows } = await this.pool.query<RunRow & { report: RunReport | null }>(
      `SELECT ${RUN_COLUMNS}, report FROM pipeline.runs WHERE id = $1`,
      [runId],
    );
    const run = rows[0];
    if (!run) return null;
    const stages = await this.pool.query<StageRunRow>(
      `SELECT stage, position, status, attempts, started_at, finished_at, duration_ms, error, error_kind
       FROM pipeline.stage_runs WHERE run_id = $1 ORDER BY position`,
      [runId],
    );
    return { ...run, stages: stages.rows };
  }

  /** The newest run that can be resumed: failed, abandoned, interrupted or cancelled. */
  async latestResumable(): Promise<RunRow | null> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM pipeline.runs WHERE status IN ('failed', 'abandoned', 'interrupted', 'cancelled') ORDER BY started_at DESC LIMIT 1`,
    );
    return rows[0] ?? null;
  }

  async stagesOf(runId: string): Promise<StageRunRow[]> {
    const { rows } = await this.pool.query<StageRunRow>(
      `SELECT stage, position, status, attempts, started_at, finished_at, duration_ms, error, error_kind
       FROM pipeline.stage_runs WHERE run_id = $1 ORDER BY position`,
      [runId],
    );
    return rows;
  }

  /**
   * Per business date in [from, to] with a succeeded run: the input fingerprints its latest
   * succeeded run's stages reported (stage name -> fingerprint).
   */
  async succeededInputs(from: string, to: string): Promise<Map<string, Map<string, string>>> {
    const { rows } = await this.pool.query<{
      run_date: string;
      stage: string | null;
      input_fingerprint: string | null;
    }>(
      `SELECT to_char(r.run_date, 'YYYY-MM-DD') AS run_date, s.stage, s.input_fingerprint
       FROM (SELECT DISTINCT ON (run_date) id, run_date FROM pipeline.runs
             WHERE status = 'succeeded' AND run_date BETWEEN $1 AND $2
             ORDER BY run_date, finished_at DESC) r
       LEFT JOIN pipeline.stage_runs s ON s.run_id = r.id AND s.input_fingerprint IS NOT NULL`,
      [from, to],
    );
    const out = new Map<string, Map<string, string>>();
    for (const row of rows) {
      const stages = out.get(row.run_date) ?? new Map<string, string>();
      if (row.stage && row.input_fingerprint) stages.set(row.stage, row.input_fingerprint);
      out.set(row.run_date, stages);
    }
    return out;
  }

  /** Per stage, the latest business date before `runDate` on which it succeeded, in any run. */
  async succeededBefore(runDate: string): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ stage: string; run_date: string }>(
      `SELECT s.stage, to_char(max(r.run_date), 'YYYY-MM-DD') AS run_date
       FROM pipeline.stage_runs s JOIN pipeline.runs r ON r.id = s.run_id
       WHERE s.status = 'succeeded' AND r.run_date < $1
       GROUP BY s.stage`,
      [runDate],
    );
    return new Map(rows.map((row) => [row.stage, row.run_date]));
  }

  /** Whether this tick already has a scheduled run that was not abandoned (catch-up). */
  async hasScheduledRun(runDate: string, scheduledFor: Date): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM pipeline.runs WHERE trigger = 'schedule' AND run_date = $1 AND scheduled_for = $2 AND status <> 'abandoned' LIMIT 1`,
      [runDate, scheduledFor],
    );
    return rows.length > 0;
  }

  async lastSuccessAt(): Promise<Date | null> {
    const { rows } = await this.pool.query<{ finished_at: Date | null }>(
      `SELECT max(finished_at) AS finished_at FROM pipeline.runs WHERE status = 'succeeded'`,
    );
    return rows[0]?.finished_at ?? null;
  }
}
