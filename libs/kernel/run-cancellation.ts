/**
 * Cancelling a run from anywhere: the request is a row update in the run store, so any replica
 * (or the CLI) can make it; the process holding the run reads it at its next heartbeat, and its
 * fence refuses to commit once it is made. A cancelled run rolls back its open transaction, skips
 * the stages still to come but the `finally` ones (monitoring), and ends `cancelled`.
 */
import type pg from 'pg';
import { FencedError, PipelineError } from './errors.js';
import type { RunRepository } from './run.repository.js';
import type { StageOutcome, StageTransaction } from './stage.js';

/**
 * The run was cancelled by an operator. Permanent: retrying the stage would undo the cancel. A
 * stage it stops ends `cancelled`, not `failed`: nothing went wrong in it.
 */
export class RunCancelledError extends PipelineError {
  override name = 'RunCancelledError';
  constructor(
    readonly by: string,
    readonly at: Date,
  ) {
    super(`run cancelled by an operator (requested by ${by} at ${at.toISOString()})`, 'permanent');
  }
}

/** The run's error when it ends `cancelled`: who asked and when, and the stages the cancel stopped. */
export function cancelSummary(reason: unknown, outcomes: readonly StageOutcome[]): string {
  const why = reason instanceof Error ? reason.message : String(reason ?? 'run cancelled');
  const stopped = outcomes.filter((o) => o.status === 'cancelled').map((o) => o.stage);
  return stopped.length ? `${why}; stopped in ${stopped.join(', ')}` : why;
}

/**
 * Why a cancel request was refused: the run does not exist, is not running, or is abandoned (still
 * recorded `running`, but its process stopped: nobody is there to read the request).
 */
export class CancelRefusedError extends Error {
  override readonly name = 'CancelRefusedError';
  constructor(
    readonly reason: 'unknown' | 'not-running' | 'abandoned',
    message: string,
  ) {
    super(message);
  }
}

export interface CancelRequest {
  readonly runId: string;
  readonly requestedAt: Date;
  /** True when an earlier request was already pending: asking twice is asking once. */
  readonly alreadyRequested: boolean;
}

/**
 * The runs executing in this process, by id. A request for one of them stops it at once rather
 * than at the next poll; on the embedded database it must, since there every connection shares one
 * session and the request's UPDATE waits until the stage's open transaction has ended.
 */
const runsHere = new Map<string, AbortController>();

/**
 * A running run's holder proves it is alive every heartbeat interval; one silent for this many
 * intervals has died (it is marked `abandoned` when the next run takes the lock).
 */
export const HEARTBEATS_BEFORE_ABANDONED = 3;

/** Records cancel requests and answers whether one is pending. */
export class RunCancellations {
  constructor(
    private readonly pool: pg.Pool,
    private readonly heartbeatIntervalMs: number,
  ) {}

  /**
   * Asks the run to stop. Throws `CancelRefusedError` for an unknown run, one that is not running
   * (it has ended), or one whose process died (no heartbeat for `HEARTBEATS_BEFORE_ABANDONED`
   * intervals): nobody would read the request, and a 202 would promise a stop that never comes.
   */
  async request(runId: string, by: string): Promise<CancelRequest> {
    const here = runsHere.get(runId);
    const stoppedHere = here !== undefined && !here.signal.aborted;
    if (stoppedHere) here.abort(new RunCancelledError(by, new Date()));
    const staleAfterMs = this.heartbeatIntervalMs * HEARTBEATS_BEFORE_ABANDONED;
    // now() is the same within a statement: a pending request made earlier has an earlier time.
    const { rows } = await this.pool.query<{ requested_at: Date; already: boolean }>(
      `UPDATE pipeline.runs SET cancel_requested_at = coalesce(cancel_requested_at, now()),
         cancel_requested_by = coalesce(cancel_requested_by, $2)
       WHERE id = $1 AND status = 'running' AND ($4 OR heartbeat_at > now() - $3 * interval '1 millisecond')
       RETURNING cancel_requested_at AS requested_at, cancel_requested_at <> now() AS already`,
      [runId, by, staleAfterMs, stoppedHere],
    );
    if (rows[0]) return { runId, requestedAt: rows[0].requested_at, alreadyRequested: rows[0].already };
    // Stopped here before the store could record it: the run may have ended meanwhile.
    if (stoppedHere) return { runId, requestedAt: new Date(), alreadyRequested: false };
    const { rows: found } = await this.pool.query<{ status: string; silent_s: number }>(
      `SELECT status, extract(epoch FROM now() - heartbeat_at)::int AS silent_s FROM pipeline.runs WHERE id = $1`,
      [runId],
    );
    const run = found[0];
    if (!run) throw new CancelRefusedError('unknown', `no run ${runId}`);
    if (run.status === 'running')
      throw new CancelRefusedError(
        'abandoned',
        `run ${runId} is abandoned: its process stopped (no heartbeat for ${run.silent_s} s), so nothing is left to cancel; it is marked abandoned when the next run starts, and can be retried then`,
      );
    throw new CancelRefusedError('not-running', `run ${runId} is ${run.status}, not running`);
  }

  /** Who asked to cancel the run and when, or null while nobody has. */
  async requested(runId: string): Promise<{ by: string; at: Date } | null> {
    const { rows } = await this.pool.query<{ by: string | null; at: Date }>(
      `SELECT cancel_requested_by AS by, cancel_requested_at AS at
       FROM pipeline.runs WHERE id = $1 AND cancel_requested_at IS NOT NULL`,
      [runId],
    );
    return rows[0] ? { by: rows[0].by ?? 'an operator', at: rows[0].at } : null;
  }

  /**
   * Polls for a cancel request every heartbeat interval and aborts `controller`
   * with a `RunCancelledError` when one is found. Errors reading the store are the heartbeat's
   * business (it warns); the watch just tries again next time.
   */
  watch(runId: string, controller: AbortController): { stop(): void } {
    const intervalMs = this.heartbeatIntervalMs;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    runsHere.set(runId, controller);
    const poll = async (): Promise<void> => {
      if (stopped) return;
      const request = await this.requested(runId).catch(() => null);
      if (request !== null && !stopped) {
        controller.abort(new RunCancelledError(request.by, request.at));
        return;
      }
      if (!stopped) timer = setTimeout(() => void poll(), intervalMs);
    };
    timer = setTimeout(() => void poll(), intervalMs);
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        if (runsHere.get(runId) === controller) runsHere.delete(runId);
      },
    };
  }
}

/**
 * The run store's half of the fence, asked inside the committing transaction: the run must still
 * be ours (not marked abandoned by another process) and not cancelled. A transaction that reaches
 * COMMIT after a cancel request rolls back, even before the heartbeat has noticed the request.
 */
export async function fenceRunRecord(
  tx: StageTransaction,
  store: Pick<RunRepository, 'fenceState'>,
  run: { readonly runId: string; readonly owner: string; readonly cancel: AbortController },
): Promise<void> {
  const state = await store.fenceState(tx, run.runId, run.owner);
  if (!state.ours)
    throw new FencedError(`run ${run.runId} is no longer ours (marked abandoned by another process)`);
  if (state.cancelled) {
    const error = new RunCancelledError(state.cancelledBy ?? 'an operator', state.cancelledAt ?? new Date());
    // The rest of the run stops too, as when the heartbeat finds the request.
    run.cancel.abort(error);
    throw error;
  }
}
