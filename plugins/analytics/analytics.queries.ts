import { sqlFile } from '@pipeline/kernel';
import type { AnalyticsSettings } from './analytics.config.js';

export interface AnalyticsQuery {
  /** Also the exported file's base name: `<name>.csv`. */
  readonly name: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

const query = (name: string, params: readonly unknown[] = []): AnalyticsQuery => ({
  name,
  sql: sqlFile(import.meta.url, `queries/${name}.sql`),
  params,
});

/** The ten analytical queries, in export order, with the parameters each one declares. */
export function analyticsQueries(settings: AnalyticsSettings, runDate: string): AnalyticsQuery[] {
  const segments = settings.spend_segments;
  const bands = segments.method === 'quantile' ? segments.quantile_bands : segments.fixed_bands;
  return [
    query('query1_top_products', [settings.top_products_limit]),
    query('query2_monthly_trend'),
    query('query3_customer_segmentation', [
      segments.method,
      bands.map((b) => b.name),
      // As decimal text, so that the server reads exactly the configured value.
      bands.map((b) => String(b.min)),
    ]),
    query('query4_category_performance'),
    query('query5_payment_methods'),
    query('query6_geographic_analysis'),
    query('query7_customer_lifetime_value', [runDate]),
    query('query8_product_profitability'),
    query('query9_day_of_week'),
    query('query10_discount_impact'),
  ];
}
