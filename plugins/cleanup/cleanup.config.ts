import { z } from 'zod';

const days = z.number().int().min(0);

/** `retention`: days to keep each class of file (0 keeps forever). */
export const retentionSchema = z
  .object({
    raw_days: days.default(7),
    processed_days: days.default(30),
    quality_days: days.default(30),
    logs_days: days.default(14),
    /** Run records (with their stages and attempts), skips and quarantined rows. */
    runs_days: days.default(90),
  })
  .strict();

export type RetentionSettings = z.output<typeof retentionSchema>;
