/**
 * The verdicts of the monitoring stage, as pure functions of what was read: each check gets a
 * status and the alerts it raises; the report's status and score follow from the checks.
 */
import { type StageOutcome } from '@pipeline/kernel';

export type CheckStatus = 'ok' | 'warning' | 'critical';
export type Severity = 'warning' | 'critical';
export type HealthStatus = 'healthy' | 'degraded' | 'critical';
export const LAYERS = ['staging', 'production', 'warehouse'] as const;
export type Layer = (typeof LAYERS)[number];

export interface Alert {
  readonly check: string;
  readonly severity: Severity;
  readonly message: string;
}

export interface CheckResult {
  readonly status: CheckStatus;
  readonly alerts: readonly Alert[];
  readonly [field: string]: unknown;
}

const HOUR_MS = 3_600_000;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const worst = (statuses: readonly CheckStatus[]): CheckStatus =>
  statuses.includes('critical') ? 'critical' : statuses.includes('warning') ? 'warning' : 'ok';
const alertsOf = (check: string, severity: Severity | null, message: string): Alert[] =>
  severity ? [{ check, severity, message }] : [];

/** A check whose data could not be read: it says so instead of failing the report. */
export function unreadableCheck(check: string, error: unknown, severity: Severity = 'warning'): CheckResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: severity,
    error: message,
    alerts: alertsOf(check, severity, `could not check ${check}: ${message}`),
  };
}

export interface LastSuccess {
  readonly runId: string;
  readonly runDate: string;
  readonly finishedAt: Date;
}

/**
 * The current run has not finished, so it is not in the run table as a success; when all of its
 * main stages succeeded it will be one, and recency is then counted from now.
 */
export function evaluateLastSuccess(input: {
  lastSuccess: LastSuccess | null;
  currentRunSucceeding: boolean;
  nowMs: number;
  maxHours: number;
}): CheckResult {
  const { lastSuccess, currentRunSucceeding, nowMs, maxHours } = input;
  const previous = {
    last_success_run_id: lastSuccess?.runId ?? null,
    last_success_run_date: lastSuccess?.runDate ?? null,
    last_success_at: lastSuccess?.finishedAt.toISOString() ?? null,
    current_run_counted: currentRunSucceeding,
    max_hours_since_success: maxHours,
  };
  if (currentRunSucceeding) return { status: 'ok', hours_since_success: 0, ...previous, alerts: [] };
  if (!lastSuccess) {
    return {
      status: 'critical',
      hours_since_success: null,
      ...previous,
      alerts: alertsOf('last_success', 'critical', 'no successful pipeline run is recorded'),
    };
  }
  const hours = round2((nowMs - lastSuccess.finishedAt.getTime()) / HOUR_MS);
  const stale = hours > maxHours;
  return {
    status: stale ? 'critical' : 'ok',
    hours_since_success: hours,
    ...previous,
    alerts: alertsOf(
      'last_success',
      stale ? 'critical' : null,
      `last successful run finished ${hours} h ago (run ${lastSuccess.runId} for ${lastSuccess.runDate}), more than ${maxHours} h`,
    ),
  };
}

/** Whether every stage of this run that ran before monitoring succeeded (none ran: false). */
export function mainStagesSucceeded(stages: readonly StageOutcome[]): boolean {
  return stages.length > 0 && stages.every((s) => s.status === 'succeeded');
}

export function evaluateRunStages(stages: readonly StageOutcome[]): CheckResult {
  const failed = stages.filter((s) => s.status === 'failed');
  const skipped = stages.filter((s) => s.status === 'skipped');
  // An operator's cancel is neither a success nor a failure: listed, never alerted on.
  const cancelled = stages.filter((s) => s.status === 'cancelled').map((s) => s.stage);
  const list = stages.map((s) => ({
    stage: s.stage,
    status: s.status,
    attempts: s.attempts,
    error: s.error,
  }));
  if (failed.length === 0) {
    return {
      status: 'ok',
      stages: list,
      failed: [],
      skipped: skipped.map((s) => s.stage),
      cancelled,
      alerts: [],
    };
  }
  const failures = failed.map(
    (s) =>
      `${s.stage} (after ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}: ${s.error ?? 'no error recorded'})`,
  );
  const skippedText = skipped.length ? `; skipped: ${skipped.map((s) => s.stage).join(', ')}` : '';
  return {
    status: 'critical',
    stages: list,
    failed: failed.map((s) => s.stage),
    skipped: skipped.map((s) => s.stage),
    cancelled,
    alerts: alertsOf(
      'run_stages',
      'critical',
      `stage failed in this run: ${failures.join('; ')}${skippedText}`,
    ),
  };
}

export interface LayerThresholds {
  readonly warning_hours: number;
  readonly critical_hours: number;
}

export function evaluateFreshness(input: {
  newest: Readonly<Record<Layer, Date | null>>;
  nowMs: number;
  thresholds: Readonly<Record<Layer, LayerThresholds>>;
}): CheckResult & {
  layers: Record<Layer, { newest_at: string | null; lag_seconds: number | null; status: CheckStatus }>;
} {
  const layers = {} as Record<
    Layer,
    { newest_at: string | null; lag_seconds: number | null; status: CheckStatus }
  >;
  const alerts: Alert[] = [];
  for (const layer of LAYERS) {
    const newest = input.newest[layer];
    const limits = input.thresholds[layer];
    if (!newest) {
      layers[layer] = { newest_at: null, lag_seconds: null, status: 'warning' };
      alerts.push({ check: 'freshness', severity: 'warning', message: `${layer} layer has no rows` });
      continue;
    }
    // A row stamped a little ahead of this clock (clock skew) is fresh, not negatively old.
    const lagSeconds = Math.max(0, Math.round((input.nowMs - newest.getTime()) / 1000));
    const lagHours = lagSeconds / 3600;
    const status: CheckStatus =
      lagHours > limits.critical_hours ? 'critical' : lagHours > limits.warning_hours ? 'warning' : 'ok';
    layers[layer] = { newest_at: newest.toISOString(), lag_seconds: lagSeconds, status };
    if (status !== 'ok') {
      alerts.push({
        check: 'freshness',
        severity: status,
        message: `${layer} layer's newest row is ${round2(lagHours)} h old (${status} above ${status === 'critical' ? limits.critical_hours : limits.warning_hours} h)`,
      });
    }
  }
  return { status: worst(Object.values(layers).map((l) => l.status)), layers, alerts };
}

export interface VolumeReading {
  readonly runDateTransactions: number;
  readonly historyDays: number;
  readonly mean: number | null;
  readonly stddev: number | null;
  readonly min: number | null;
  readonly max: number | null;
}

export type VolumeState = 'normal' | 'spike' | 'drop' | 'insufficient_history';

/** Gauge value per state: 1 spike, -1 drop, 0 otherwise (no verdict is not an anomaly). */
export const VOLUME_ANOMALY_GAUGE: Readonly<Record<VolumeState, number>> = {
  normal: 0,
  spike: 1,
  drop: -1,
  insufficient_history: 0,
};

/**
 * The run date's count against mean ± sigma × sample standard deviation of the baseline days.
 * A perfectly flat baseline (deviation 0) makes any other count an anomaly: such data is rare
 * enough that a change from it deserves a look.
 */
export function evaluateVolume(input: {
  runDate: string;
  reading: VolumeReading;
  sigma: number;
  minHistoryDays: number;
}): CheckResult & { state: VolumeState } {
  const { reading, sigma, minHistoryDays, runDate } = input;
  const base = {
    run_date: runDate,
    run_date_transactions: reading.runDateTransactions,
    history_days: reading.historyDays,
    mean: reading.mean,
    stddev: reading.stddev,
    baseline_min: reading.min,
    baseline_max: reading.max,
    sigma,
  };
  if (reading.historyDays < minHistoryDays || reading.mean === null || reading.stddev === null) {
    return {
      status: 'ok',
      state: 'insufficient_history',
      ...base,
      lower_bound: null,
      upper_bound: null,
      alerts: [],
    };
  }
  const lower = round2(reading.mean - sigma * reading.stddev);
  const upper = round2(reading.mean + sigma * reading.stddev);
  const count = reading.runDateTransactions;
  const state: VolumeState = count > upper ? 'spike' : count < lower ? 'drop' : 'normal';
  const bounds = { lower_bound: lower, upper_bound: upper };
  if (state === 'normal') return { status: 'ok', state, ...base, ...bounds, alerts: [] };
  return {
    status: 'warning',
    state,
    ...base,
    ...bounds,
    alerts: alertsOf(
      'volume',
      'warning',
      `transaction volume ${state} on ${runDate}: ${count} transactions, expected ${lower}..${upper} (mean ${reading.mean} ± ${sigma} sd over ${reading.historyDays} days)`,
    ),
  };
}

export interface QualityReading {
  readonly score: number;
  readonly source: string;
}

export function evaluateQuality(reading: QualityReading | null, minScore: number): CheckResult {
  if (!reading) {
    return {
      status: 'warning',
      score: null,
      source: null,
      min_quality_score: minScore,
      alerts: alertsOf(
        'quality',
        'warning',
        'no data quality score found (no quality stage result and no report file)',
      ),
    };
  }
  const low = reading.score < minScore;
  return {
    status: low ? 'warning' : 'ok',
    score: reading.score,
    source: reading.source,
    min_quality_score: minScore,
    alerts: alertsOf(
      'quality',
      low ? 'warning' : null,
      `data quality score ${reading.score} is below ${minScore}`,
    ),
  };
}

export interface DatabaseReading {
  readonly responseMs: number;
  /** Null when the server does not report its connections (the embedded database). */
  readonly connections: { client: number; active: number; max: number } | null;
}

export function evaluateDatabase(
  reading: DatabaseReading,
  limits: { max_response_ms: number; max_connection_usage_pct: number },
): CheckResult {
  const alerts: Alert[] = [];
  const slow = reading.responseMs > limits.max_response_ms;
  if (slow) {
    alerts.push({
      check: 'database',
      severity: 'warning',
      message: `database answered SELECT 1 in ${reading.responseMs} ms (above ${limits.max_response_ms} ms)`,
    });
  }
  const usage = reading.connections
    ? round2((reading.connections.client / reading.connections.max) * 100)
    : null;
  const crowded = usage !== null && usage > limits.max_connection_usage_pct;
  if (crowded) {
    alerts.push({
      check: 'database',
      severity: 'warning',
      message: `${reading.connections?.client} client connections use ${usage} % of max_connections ${reading.connections?.max} (above ${limits.max_connection_usage_pct} %)`,
    });
  }
  return {
    status: slow || crowded ? 'warning' : 'ok',
    reachable: true,
    response_ms: reading.responseMs,
    client_connections: reading.connections?.client ?? null,
    active_connections: reading.connections?.active ?? null,
    max_connections: reading.connections?.max ?? null,
    connection_usage_pct: usage,
    alerts,
  };
}

const CHECK_POINTS: Readonly<Record<CheckStatus, number>> = { ok: 1, warning: 0.5, critical: 0 };

/**
 * critical if any check is critical, degraded if any warns, healthy otherwise. The score gives
 * every check the same weight: full when ok, half when warning, none when critical.
 */
export function summarize(checks: Readonly<Record<string, CheckResult>>): {
  status: HealthStatus;
  health_score: number;
  alerts: Alert[];
} {
  const results = Object.values(checks);
  const overall = worst(results.map((c) => c.status));
  const points = results.reduce((sum, c) => sum + CHECK_POINTS[c.status], 0);
  return {
    status: overall === 'critical' ? 'critical' : overall === 'warning' ? 'degraded' : 'healthy',
    health_score: results.length ? Math.round((points / results.length) * 100) : 100,
    alerts: results.flatMap((c) => c.alerts),
  };
}
