/**
 * Fault injection for the reliability suite: `PIPELINE_FAULT_POINTS="warehouse:loaded=crash"`
 * makes the process SIGKILL itself when a stage reaches that checkpoint; `=pause` waits until
 * the stage is aborted; `=fail` throws a retryable error once per process; `=delay:<ms>` sleeps;
 * `=busy` runs a statement that keeps the server busy until it is cancelled (PostgreSQL), on the
 * stage's own database handle: what a heavy statement is to the stage's timeout and stops.
 * Without the variable, checkpoints cost one map lookup and do nothing.
 */
import { RetryableError } from './errors.js';
import type { StageDatabase } from './stage.js';

type FaultAction =
  { kind: 'crash' } | { kind: 'pause' } | { kind: 'fail' } | { kind: 'busy' } | { kind: 'delay'; ms: number };

/**
 * Counts to 9e18, one row at a time: busy on the server for ages, in constant memory (the set
 * returning function in the select list streams; in FROM it would be stored first).
 */
const BUSY_STATEMENT =
  'SELECT count(n) FROM (SELECT generate_series(1::bigint, 9000000000000000000::bigint) AS n) s';

export function parseFaultPoints(spec: string | undefined): ReadonlyMap<string, FaultAction> {
  const points = new Map<string, FaultAction>();
  for (const entry of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [point, action = 'crash'] = entry.split('=');
    if (!point) continue;
    if (action === 'crash' || action === 'pause' || action === 'fail' || action === 'busy')
      points.set(point, { kind: action });
    else if (action.startsWith('delay:')) points.set(point, { kind: 'delay', ms: Number(action.slice(6)) });
    else
      throw new Error(
        `PIPELINE_FAULT_POINTS: unknown action "${action}" for ${point} (crash, pause, fail, busy, delay:<ms>)`,
      );
  }
  return points;
}

export class FaultPoints {
  private readonly fired = new Set<string>();

  constructor(
    private readonly points: ReadonlyMap<string, FaultAction> = parseFaultPoints(
      process.env.PIPELINE_FAULT_POINTS,
    ),
  ) {}

  async reach(point: string, signal: AbortSignal, db: Pick<StageDatabase, 'query'>): Promise<void> {
    const action = this.points.get(point);
    if (!action) return;
    switch (action.kind) {
      case 'crash':
        process.kill(process.pid, 'SIGKILL');
        return new Promise(() => undefined);
      case 'fail':
        if (this.fired.has(point)) return;
        this.fired.add(point);
        throw new RetryableError(`injected fault at ${point}`);
      case 'busy':
        await db.query(BUSY_STATEMENT);
        return;
      case 'pause':
      case 'delay':
        await new Promise<void>((resolve, reject) => {
          const timer = action.kind === 'delay' ? setTimeout(resolve, action.ms) : undefined;
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              reject(signal.reason as Error);
            },
            { once: true },
          );
        });
    }
  }
}
