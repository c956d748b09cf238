import { z } from 'zod';
import { EARLIEST_BUSINESS_DATE, MAX_DAYS_AFTER_RUN_DATE, isIsoDate } from '@pipeline/kernel';
import { CHECK_NAMES } from './quality-checks.catalog.js';

const weight = (value: number) => z.number().min(0).default(value);

const checkOverrideSchema = z
  .object({
    severity: z.enum(['error', 'warn']).optional(),
    /** Share of the checked rows (0..1) that may fail before the check counts as failed. */
    threshold: z.number().min(0).max(1).optional(),
  })
  .strict();

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine(isIsoDate, 'not a calendar date');

/**
 * The window a transaction or registration date must fall in (`transactions_date_plausible`,
 * `customers_registration_plausible`). It must lie inside the limits production-etl and the
 * warehouse hold every date to (libs/contract/business-dates.ts), so that what the gate lets
 * through also loads.
 */
const plausibleDatesSchema = z
  .object({
    /** The first plausible day. */
    earliest: isoDate
      .refine(
        (v) => v >= EARLIEST_BUSINESS_DATE,
        `must not be before ${EARLIEST_BUSINESS_DATE}: production-etl and the warehouse refuse earlier dates`,
      )
      .default('1970-01-01'),
    /** The last plausible day is the run date plus this many days. */
    days_after_run_date: z
      .number()
      .int()
      .min(0)
      .max(
        MAX_DAYS_AFTER_RUN_DATE,
        `must be at most ${MAX_DAYS_AFTER_RUN_DATE}: production-etl and the warehouse refuse later dates`,
      )
      .default(7),
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
    plausible_dates: plausibleDatesSchema.prefault({}),
    /** How the staged sales' dates must fit the run's business date (README, "Input dates"). */
    input_dates: z
      .object({
        /**
         * How many days before the run date the newest sale may be: 0, the files of date D hold a
         * sale of D (older ones beside it are late lines); 1 also accepts files whose newest sale
         * is of D-1 (a source that delivers a day late, or a day without sales but late lines).
         */
        late_days: z.number().int().min(0).max(366).default(0),
      })
      .strict()
      .prefault({}),
    /** Per-check severity and threshold, by check name (see README). */
    checks: z.partialRecord(z.enum(CHECK_NAMES), checkOverrideSchema).default({}),
  })
  .strict();

export type QualityConfig = z.output<typeof qualityConfigSchema>;
