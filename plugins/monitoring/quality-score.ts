import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stageOutput } from '@pipeline/kernel';
import { z } from 'zod';
import type { QualityReading } from './health-report.js';

export const QUALITY_REPORT_FILE = 'data_quality_report.json';
/** Where the quality gate keeps its report, under the data folder. */
export const QUALITY_FOLDER = 'quality';

/** What monitoring reads of the quality gate's run: the score, 0..100 (the gate's `quality-score` output). */
export const qualityScoreOutput = stageOutput(
  'quality-score',
  z.object({ score: z.number().min(0).max(100) }),
);

// Where a quality score may sit in a quality report file (older reports too), most specific first.
const SCORE_KEYS = ['overall_quality_score', 'overall_score', 'quality_score', 'score'] as const;
const SCORE_CONTAINERS = ['summary', 'overall', 'quality'] as const;

const asRecord = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;

/** The 0..100 score in a quality report, or null when there is none. */
export function scoreIn(value: unknown): number | null {
  const record = asRecord(value);
  if (!record) return null;
  for (const holder of [record, ...SCORE_CONTAINERS.map((k) => asRecord(record[k]))]) {
    if (!holder) continue;
    for (const key of SCORE_KEYS) {
      const score = holder[key];
      if (typeof score === 'number' && Number.isFinite(score) && score >= 0 && score <= 100) return score;
    }
  }
  return null;
}

/**
 * This run's quality score when the quality stage succeeded and handed one on (`fromRun`);
 * otherwise the score in the newest `data_quality_report.json` (written even when the gate
 * failed the stage).
 */
export async function latestQualityScore(
  fromRun: { readonly score: number } | undefined,
  qualityStage: string,
  qualityDir: string,
): Promise<QualityReading | null> {
  if (fromRun) return { score: fromRun.score, source: `stage ${qualityStage} of this run` };

  const path = join(qualityDir, QUALITY_REPORT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const score = scoreIn(report);
  if (score === null) throw new Error(`${path} holds no score (looked for ${SCORE_KEYS.join(', ')})`);
  const modified = (await stat(path)).mtime.toISOString();
  return { score, source: `${QUALITY_REPORT_FILE} of ${modified}` };
}
