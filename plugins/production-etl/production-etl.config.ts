import { z } from 'zod';

/**
 * The `production` section of the configuration. Price thresholds follow the spec's bands
 * (Budget < 50, Mid-range < 200, Premium otherwise); the generator's prices run up to about
 * 2000, so these defaults spread products over all three bands.
 */
export const productionEtlConfigSchema = z
  .object({
    price_category: z
      .object({
        /** A price below this is `Budget`. */
        budget_max: z.number().positive().default(50),
        /** A price below this (and not Budget) is `Mid-range`; anything else is `Premium`. */
        mid_max: z.number().positive().default(200),
      })
      .strict()
      .refine((bands) => bands.budget_max < bands.mid_max, {
        message: 'budget_max must be below mid_max',
        path: ['mid_max'],
      })
      .prefault({}),
    /**
     * A staged line_total further than this from round(quantity x unit_price x (1 - discount/100), 2)
     * is replaced by that value and counted. 0: any difference, even a cent (the quality gate lets
     * up to its own tolerance through), so that production's line totals are the formula's and a
     * line's discount and total add up in the warehouse.
     */
    line_total_tolerance: z.number().min(0).default(0),
    /**
     * A bulk load of the fact tables sets their foreign keys and secondary indexes aside for the
     * INSERTs and rebuilds them before commit (per-row trigger and index work becomes one set-based
     * check and one sort each). Only worth it when the batch is large in itself AND large next to
     * what is already there, because rebuilding and re-validating cost grows with the whole table.
     */
    bulk_load: z
      .object({
        /** New fact rows (transactions + items) above which a load counts as bulk. */
        min_new_rows: z.number().int().min(0).default(5_000),
        /** ...and at least this share of the rows already in the fact tables (planner estimate). */
        min_share_of_existing: z.number().min(0).default(0.25),
      })
      .strict()
      .prefault({}),
    /** work_mem for this stage's transaction: hash joins and aggregates over a whole batch's ids. */
    work_mem_mb: z.number().int().min(1).max(4096).default(256),
    /**
     * maintenance_work_mem for this stage's transaction: the sorts that rebuild the fact tables'
     * keys and indexes after a bulk load, and the foreign-key re-validation (PostgreSQL runs that
     * check with work_mem raised to this value).
     */
    maintenance_work_mem_mb: z.number().int().min(1).max(16384).default(128),
    /** How many row ids the summary lists per kind of correction (the counts are always complete). */
    reported_ids_limit: z.number().int().min(0).max(10_000).default(20),
  })
  .strict();

export type ProductionEtlSettings = z.output<typeof productionEtlConfigSchema>;
