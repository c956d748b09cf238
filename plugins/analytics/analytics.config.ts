import { z } from 'zod';

const bandSchema = z.object({ name: z.string().trim().min(1), min: z.number().min(0) }).strict();

/** Bands are listed highest first; the last one starts at 0 so that every customer has one. */
const bandsSchema = z
  .array(bandSchema)
  .min(1)
  .superRefine((bands, ctx) => {
    const names = new Set<string>();
    bands.forEach((band, i) => {
      if (names.has(band.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate band name "${band.name}"` });
      names.add(band.name);
      const previous = bands[i - 1];
      if (previous && band.min >= previous.min) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'min'],
          message: 'bands must be listed with strictly decreasing min',
        });
      }
    });
    if (bands[bands.length - 1]?.min !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: [bands.length - 1, 'min'],
        message: 'the last band must have min 0',
      });
    }
  });

export const analyticsConfigSchema = z
  .object({
    /** Rows of query 1 (top products by revenue). */
    top_products_limit: z.number().int().min(1).max(100_000).default(10),
    /** Rows fetched per round trip while exporting through a cursor (the embedded database; bounds memory). PostgreSQL streams COPY instead. */
    fetch_batch_rows: z.number().int().min(1).max(1_000_000).default(10_000),
    /** work_mem of the stage's transaction: the queries' DISTINCT sorts stay in memory. */
    work_mem_mb: z.number().int().min(1).max(4096).default(128),
    /**
     * random_page_cost of the stage's transaction. At the server default (4) a daily refresh
     * scanned all 3M facts of a 1M-transaction warehouse to recompute ~800 touched product
     * versions (550 ms) instead of reading their 48k facts through the product_key index
     * (215 ms). The working set is in memory; set 4 again for data that is not.
     */
    random_page_cost: z.number().positive().max(100).default(1.1),
    /**
     * On PostgreSQL, rebuild the summaries (first run, or facts changed other than by appending)
     * as two halves side by side, each in a transaction of its own on one snapshot: a rebuild
     * reads every fact several times, and one backend uses one core. `false`: the whole rebuild
     * in the stage's transaction, as on the embedded database.
     */
    rebuild_side_by_side: z.boolean().default(true),
    /**
     * On PostgreSQL, export the ten queries on two connections that read one snapshot, each
     * taking the next query, most expensive first: one backend uses one core. The summaries'
     * refresh then commits on its own first. `false`: the refresh and the exports in the stage's
     * transaction, one after the other, as on the embedded database.
     */
    exports_side_by_side: z.boolean().default(true),
    spend_segments: z
      .object({
        /**
         * `quantile`: bands by the customer's rank in spend (min = share of customers below),
         * so segments follow the data's scale; `fixed`: bands by total spend in currency.
         */
        method: z.enum(['quantile', 'fixed']).default('quantile'),
        quantile_bands: bandsSchema
          .refine((bands) => bands.every((b) => b.min < 1), 'quantile band min must be below 1')
          .default([
            { name: 'Platinum', min: 0.9 },
            { name: 'Gold', min: 0.7 },
            { name: 'Silver', min: 0.4 },
            { name: 'Bronze', min: 0 },
          ]),
        fixed_bands: bandsSchema.default([
          { name: 'VIP', min: 20_000 },
          { name: 'High', min: 10_000 },
          { name: 'Medium', min: 5_000 },
          { name: 'Low', min: 1_000 },
          { name: 'Occasional', min: 0 },
        ]),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AnalyticsSettings = z.output<typeof analyticsConfigSchema>;
