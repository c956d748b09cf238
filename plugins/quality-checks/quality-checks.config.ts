import { z } from 'zod';
import { CHECK_NAMES } from './quality-checks.catalog.js';

const weight = (value: number) => z.number().min(0).default(value);

const checkOverrideSchema = z
  .object({
    severity: z.enum(['error', 'warn']).optional(),
    /** Share of the checked rows (0..1) that may fail before the check counts as failed. */
    threshold: z.number().min(0).max(1).optional(),
  })
  .strict();

/** The `quality` section of the configuration. */
export const qualityConfigSchema = z
  .object({
    /** The gate closes when the overall score (0..100) is below this. */
    min_score: z.number().min(0).max(100).default(95),
    /** Largest absolute difference accepted between a stored amount and the recomputed one. */
    tolerance: z.number().min(0).default(0.01),
    /**
     * Memory per hash or sort of the checks' statements, set with SET LOCAL for the stage's
     * transaction only: the duplicate and total checks hash every id of a table, and at the server
     * default (4 MB) they spill to disk (EXPLAIN on 900k items: 17 batches, 31 MB written; at
     * 64 MB: one batch in memory).
     */
    work_mem_mb: z.number().int().min(1).max(4096).default(64),
    weights: z
      .object({
        completeness: weight(20),
        uniqueness: weight(15),
        referential: weight(30),
        consistency: weight(20),
        ranges: weight(15),
      })
      .strict()
      .prefault({})
      .refine((w) => Object.values(w).some((v) => v > 0), 'at least one weight must be above 0'),
    /** Per-check severity and threshold, by check name (see README). */
    checks: z.partialRecord(z.enum(CHECK_NAMES), checkOverrideSchema).default({}),
  })
  .strict();

export type QualityConfig = z.output<typeof qualityConfigSchema>;
