import { z } from 'zod';

/** The `ingestion` section of the configuration. */
export const ingestionConfigSchema = z
  .object({
    /**
     * Folder holding the four CSV files, relative to the data folder (or absolute, but inside it).
     * null: the raw data folder (`<data_dir>/raw`), where data-generation writes.
     */
    input_dir: z.string().min(1).nullable().default(null),
  })
  .strict();

export type IngestionSettings = z.output<typeof ingestionConfigSchema>;
