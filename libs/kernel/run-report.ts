import type { RunTrigger, StageOutcome, StageStatus } from './stage.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'abandoned' | 'interrupted' | 'cancelled';

/** The whole story of one run: stored as jsonb and written to pipeline_execution_report.json. */
export interface RunReport {
  readonly run_id: string;
  readonly trigger: RunTrigger;
  readonly run_date: string;
  readonly status: RunStatus;
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  readonly code_version: string;
  /** The version of each loaded plugin package, by name. */
  readonly plugins: Readonly<Record<string, string>>;
  readonly config_hash: string;
  readonly resumed_from: string | null;
  readonly stages: readonly StageReport[];
  readonly error: string | null;
  readonly warnings: readonly string[];
}

export interface StageReport {
  readonly stage: string;
  readonly status: StageStatus;
  readonly attempts: number;
  readonly duration_ms: number | null;
  readonly rows: readonly { table: string; read?: number; written?: number; rejected?: number }[];
  readonly files: readonly string[];
  readonly details: Readonly<Record<string, unknown>> | null;
  readonly warnings: readonly string[];
  readonly error: string | null;
}

export function stageReport(outcome: StageOutcome): StageReport {
  return {
    stage: outcome.stage,
    status: outcome.status,
    attempts: outcome.attempts,
    duration_ms: outcome.durationMs,
    rows: outcome.result?.rows ?? [],
    files: outcome.result?.files ?? [],
    details: outcome.result?.details ?? null,
    warnings: outcome.result?.warnings ?? [],
    error: outcome.error,
  };
}

/**
 * `value` with `change` applied to every string in it, however deep: a report or a stage's
 * details are scrubbed whole before they are kept, because a stage may quote another's error
 * (monitoring names the failed stage's).
 */
export function withEveryString<T>(change: (text: string) => string, value: T): T {
  if (typeof value === 'string') return change(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => withEveryString(change, item)) as T;
  const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(
    Object.entries(value as object).map(([key, item]) => [key, withEveryString(change, item)]),
  ) as T;
}
