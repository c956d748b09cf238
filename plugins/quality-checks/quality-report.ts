import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { REPORT_SECTIONS, type Dimension } from './quality-checks.catalog.js';
import type { TableProfile } from './quality.repository.js';
import { round2, type CheckOutcome, type GateDecision, type Grade } from './quality-score.js';

export interface ReportInput {
  readonly runId: string;
  readonly runDate: string;
  readonly generatedAt: Date;
  readonly profiles: readonly TableProfile[];
  readonly outcomes: readonly CheckOutcome[];
  readonly durationsMs: ReadonlyMap<string, number>;
  readonly dimensionScores: Readonly<Record<Dimension, number>>;
  readonly weights: Readonly<Record<Dimension, number>>;
  readonly score: number;
  readonly grade: Grade;
  readonly minScore: number;
  readonly gate: GateDecision;
  readonly quarantinedByTable: Readonly<Record<string, number>>;
}

interface CheckEntry {
  readonly check: string;
  readonly checked: number;
  readonly failed: number;
  readonly passed: boolean;
}

/**
 * `data_quality_report.json`: the original report's keys first and in their order (the date the
 * data was judged for, the five sections, score, grade), then the detail this gate adds.
 */
export function buildReport(input: ReportInput): Record<string, unknown> {
  const sections: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const section of Object.values(REPORT_SECTIONS)) sections[section] = {};
  for (const o of input.outcomes) {
    const section = sections[REPORT_SECTIONS[o.dimension]]!;
    const entry: CheckEntry = { check: o.name, checked: o.checked, failed: o.failed, passed: o.passed };
    if (o.dimension === 'completeness') {
      const missing = input.profiles.find((p) => p.table === o.table)?.missing ?? {};
      section[o.table] = { ...entry, columns: missing };
    } else {
      section[o.table] = { ...section[o.table], [o.key]: entry };
    }
  }
  const quarantinedRows = Object.values(input.quarantinedByTable).reduce((a, b) => a + b, 0);
  return {
    check_timestamp: input.runDate,
    checks_performed: sections,
    overall_quality_score: input.score,
    quality_grade: input.grade,
    run_id: input.runId,
    generated_at: input.generatedAt.toISOString(),
    dimension_scores: Object.fromEntries(
      Object.entries(input.dimensionScores).map(([d, s]) => [d, round2(s)]),
    ),
    weights: input.weights,
    min_score: input.minScore,
    gate: { passed: input.gate.passed, reasons: input.gate.reasons },
    checks: input.outcomes.map((o) => ({
      name: o.name,
      dimension: o.dimension,
      table: `staging.${o.table}`,
      rule: o.rule,
      severity: o.severity,
      threshold: o.threshold,
      checked: o.checked,
      failed: o.failed,
      passed: o.passed,
      duration_ms: input.durationsMs.get(o.name) ?? null,
    })),
    quarantine: {
      table: 'pipeline.quarantine',
      run_id: input.runId,
      rows: quarantinedRows,
      by_table: input.quarantinedByTable,
      query: `SELECT * FROM pipeline.quarantine WHERE run_id = '${input.runId}' ORDER BY table_name, check_name, row_id`,
    },
  };
}

/** Writes beside the target and renames, so a reader never sees half a report. */
export async function writeReportAtomically(path: string, report: Record<string, unknown>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`, 'utf8');
  await rename(tmp, path);
}
