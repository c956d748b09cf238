/**
 * Shared pieces of the reliability suite: a small data set, the real CLI as a child process
 * (never throwing on a non-zero exit: the exit is what the tests look at), and content
 * checksums that compare two databases' business data.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CLI, waitFor } from '../support/daemon-process.js';

export const RUN_DATE = '2025-01-01';

/**
 * A YAML config with a small data set (a run takes seconds) and short retry delays; `extra` is
 * appended verbatim (other top-level sections).
 */
export function smallConfig(extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'reliability-config-'));
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    [
      'scheduler:',
      '  enabled: false',
      'pipeline:',
      '  retry: { attempts: 4, base_delay_ms: 200, max_delay_ms: 1000, jitter: 0 }',
      '  heartbeat_interval_ms: 500',
      'data_generation:',
      '  customers: 300',
      '  products: 100',
      '  transactions: 1500',
      extra,
    ].join('\n'),
  );
  return path;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `pipeline <args>` to its end; resolves with its exit whatever it is. */
export async function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

export { contentChecksums } from '../support/checksums.js';

/** `POST /runs` with a bearer token and a JSON body, as an operator's client sends it. */
export function postRun(baseUrl: string, token: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${baseUrl}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function scalar(client: pg.Client, sql: string, params: unknown[] = []): Promise<string> {
  const { rows } = await client.query<{ v: unknown }>(sql, params);
  return String(rows[0]?.v);
}

/** A transaction idle for a while: the stage sits in its checkpoint delay, writes not committed. */
/**
 * Until `stage` of run `runId` sits paused inside its transaction, and `ended` (a gate running
 * beside it, whose own transaction goes on meanwhile) is no longer running.
 */
export async function waitInsideCheckpoint(
  client: pg.Client,
  stage: string,
  runId: string,
  ended?: string,
): Promise<void> {
  await waitFor(
    `${stage} paused inside its transaction`,
    async () => {
      const { rows } = await client
        .query(
          `SELECT 1 FROM pg_stat_activity a, pipeline.stage_runs s
         WHERE a.datname = current_database() AND a.state = 'idle in transaction'
           AND a.state_change < now() - interval '700 ms'
           AND s.run_id = $1 AND s.stage = $2 AND s.status = 'running'
           AND NOT EXISTS (SELECT 1 FROM pipeline.stage_runs g
                           WHERE g.run_id = $1 AND g.stage = $3 AND g.status = 'running')`,
          [runId, stage, ended ?? null],
        )
        .catch(() => ({ rows: [] }));
      return rows.length > 0;
    },
    60_000,
  );
}
