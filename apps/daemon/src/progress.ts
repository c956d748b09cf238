import cliProgress from 'cli-progress';
import type { RunReport, RunService } from '../../../libs/kernel/index.js';

interface StageEvent {
  stage: string;
  status: string;
  durationMs?: number | null;
  rows?: readonly { table: string; read?: number; written?: number; rejected?: number }[];
  error?: string | null;
}

function rowsText(rows: StageEvent['rows']): string {
  const written = (rows ?? []).reduce((n, r) => n + (r.written ?? 0), 0);
  return written ? `, ${written.toLocaleString('en-US')} rows written` : '';
}

/**
 * Shows a run's progress: a bar (stage, rows, elapsed) on a terminal, one plain line per event
 * otherwise (CI logs, pipes). Writes to stderr so stdout stays for data.
 */
export function showProgress(
  runs: RunService,
  totalStages: number,
  out: NodeJS.WriteStream = process.stderr,
): () => void {
  const tty = out.isTTY === true;
  const started = Date.now();
  let done = 0;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} stages | {stage} | {elapsed}s',
          stream: out,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalStages, 0, { stage: 'starting', elapsed: '0.0' });
  const onStage = (event: StageEvent): void => {
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    if (event.status !== 'running') done++;
    if (bar) {
      bar.update(done, {
        stage:
          event.status === 'running' ? event.stage : `${event.stage} ${event.status}${rowsText(event.rows)}`,
        elapsed,
      });
    } else {
      const took = event.durationMs != null ? ` in ${(event.durationMs / 1000).toFixed(2)}s` : '';
      out.write(
        `[${elapsed}s] ${event.stage} ${event.status}${took}${rowsText(event.rows)}${event.error ? `: ${event.error}` : ''}\n`,
      );
    }
  };
  const onAttempt = (event: {
    stage: string;
    attempt: number;
    error: string | null;
    retryInMs: number | null;
  }): void => {
    if (event.retryInMs !== null) {
      const line = `${event.stage} attempt ${event.attempt} failed (${event.error}); retrying in ${event.retryInMs} ms`;
      if (bar) bar.update(done, { stage: line });
      else out.write(`${line}\n`);
    }
  };
  const onFinished = (report: RunReport): void => {
    bar?.stop();
    out.write(
      `run ${report.run_id} ${report.status} in ${((report.duration_ms ?? 0) / 1000).toFixed(2)}s${report.error ? `: ${report.error}` : ''}\n`,
    );
  };
  runs.on('stage', onStage);
  runs.on('attempt', onAttempt);
  runs.once('finished', onFinished);
  return () => {
    runs.off('stage', onStage);
    runs.off('attempt', onAttempt);
    runs.off('finished', onFinished);
    bar?.stop();
  };
}
