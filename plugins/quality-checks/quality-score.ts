import { DIMENSIONS, type CheckDefinition, type Dimension, type Severity } from './quality-checks.catalog.js';
import type { QualityConfig } from './quality-checks.config.js';

/** What one check found, judged against its configured severity and threshold. */
export interface CheckOutcome {
  readonly name: string;
  readonly dimension: Dimension;
  readonly table: string;
  readonly key: string;
  /** What a failing row breaks, in words. */
  readonly rule: string;
  readonly severity: Severity;
  /** Share of the checked rows allowed to fail (0..1). */
  readonly threshold: number;
  /** Rows examined: every row of the check's table. */
  readonly checked: number;
  /** Rows that failed, each quarantined once for this check. */
  readonly failed: number;
  readonly passed: boolean;
}

export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

export interface GateDecision {
  readonly passed: boolean;
  /** Why it closed: the failing error-severity checks, then the score, if below the minimum. */
  readonly reasons: readonly string[];
}

export function judgeCheck(
  check: CheckDefinition,
  config: QualityConfig,
  checked: number,
  failed: number,
): CheckOutcome {
  const override = config.checks[check.name];
  const severity = override?.severity ?? check.defaultSeverity;
  const threshold = override?.threshold ?? 0;
  return {
    name: check.name,
    dimension: check.dimension,
    table: check.table,
    key: check.key,
    rule: check.description,
    severity,
    threshold,
    checked,
    failed,
    passed: failed <= threshold * checked,
  };
}

/**
 * A dimension's score is the share of (row, check) pairs that pass across its checks:
 * 100 * (sum checked - sum failed) / sum checked. A dimension that examined nothing scores 100.
 * Thresholds and severities do not change scores; they only decide the gate.
 */
export function dimensionScores(outcomes: readonly CheckOutcome[]): Record<Dimension, number> {
  const scores = {} as Record<Dimension, number>;
  for (const dimension of DIMENSIONS) {
    let checked = 0;
    let failed = 0;
    for (const o of outcomes) {
      if (o.dimension !== dimension) continue;
      checked += o.checked;
      failed += o.failed;
    }
    scores[dimension] = checked === 0 ? 100 : (100 * (checked - failed)) / checked;
  }
  return scores;
}

/** The weighted mean of the dimension scores, rounded to 2 decimals. */
export function overallScore(
  scores: Readonly<Record<Dimension, number>>,
  weights: QualityConfig['weights'],
): number {
  let weighted = 0;
  let total = 0;
  for (const dimension of DIMENSIONS) {
    weighted += weights[dimension] * scores[dimension];
    total += weights[dimension];
  }
  return round2(weighted / total);
}

export function gradeOf(score: number): Grade {
  if (score >= 90) return 'A';
  if (score >= 80) return 'B';
  if (score >= 70) return 'C';
  if (score >= 60) return 'D';
  return 'F';
}

export function decideGate(outcomes: readonly CheckOutcome[], score: number, minScore: number): GateDecision {
  const reasons = outcomes
    .filter((o) => o.severity === 'error' && !o.passed)
    .map(
      (o) =>
        `${o.name} failed ${o.failed} of ${o.checked} rows of staging.${o.table} (threshold ${o.threshold})`,
    );
  if (score < minScore) reasons.push(`score ${score} is below min_score ${minScore}`);
  return { passed: reasons.length === 0, reasons };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
