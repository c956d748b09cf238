import { z } from 'zod';

const hours = z.number().positive();

const layerThresholdsSchema = (warning: number, critical: number) =>
  z
    .object({ warning_hours: hours.default(warning), critical_hours: hours.default(critical) })
    .strict()
    .refine((t) => t.warning_hours <= t.critical_hours, {
      message: 'warning_hours must not exceed critical_hours',
      path: ['warning_hours'],
    })
    .prefault({});

export const monitoringConfigSchema = z
  .object({
    /** Critical when the last successful run finished longer ago than this. */
    max_hours_since_success: hours.default(25),
    /** Age of the newest row per layer; a daily pipeline refreshes every layer once a day. */
    freshness: z
      .object({
        staging: layerThresholdsSchema(26, 50),
        production: layerThresholdsSchema(26, 50),
        warehouse: layerThresholdsSchema(26, 50),
      })
      .strict()
      .prefault({}),
    volume: z
      .object({
        /** Days before the run date whose transaction counts form the baseline. */
        history_days: z.number().int().min(2).max(366).default(30),
        /** Fewer baseline days than this (the data is young): no verdict, no alert. */
        min_history_days: z.number().int().min(2).max(366).default(7),
        /** Half-width of the normal band, in standard deviations of the baseline. */
        sigma: z.number().positive().default(3),
      })
      .strict()
      .refine((v) => v.min_history_days <= v.history_days, {
        message: 'min_history_days must not exceed history_days',
        path: ['min_history_days'],
      })
      .prefault({}),
    /** Degraded when the latest quality score is below this (0..100). */
    min_quality_score: z.number().min(0).max(100).default(95),
    /** The stage whose result details carry this run's quality score. */
    quality_stage: z.string().min(1).default('quality-checks'),
    database: z
      .object({
        /** Degraded when `SELECT 1` takes longer than this. */
        max_response_ms: z.number().int().min(1).default(1000),
        /** Degraded when client connections use more than this share of max_connections. */
        max_connection_usage_pct: z.number().min(1).max(100).default(90),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type MonitoringSettings = z.output<typeof monitoringConfigSchema>;
