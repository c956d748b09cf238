/**
 * Production rows for the warehouse tests, written with plain SQL (stages meet only through the
 * database, so the tests do not run production-etl): members as history rows by business date
 * (with the production row and the warehouse's inbox row production-etl writes with them), facts
 * with the business date they came from.
 */
import type { PluginManifest } from '@pipeline/kernel';
import { createTestBed, type Database, type TestBed, type TestBedOptions } from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import productionEtl from '@pipeline/plugin-production-etl';
import qualityChecks from '@pipeline/plugin-quality-checks';
import warehouse from './index.js';

export interface CustomerFixture {
  readonly id: string;
  readonly city?: string;
  readonly firstName?: string;
  readonly active?: boolean;
}

export interface ProductFixture {
  readonly id: string;
  readonly category?: string;
  readonly price?: string;
  readonly cost?: string;
  readonly active?: boolean;
}

export interface ItemFixture {
  readonly id: string;
  readonly product: string;
  readonly quantity: number;
  readonly unitPrice: string;
  readonly discount?: number;
}

export interface TransactionFixture {
  readonly id: string;
  readonly customer: string;
  readonly date: string;
  readonly paymentMethod?: string;
  readonly items: readonly ItemFixture[];
}

/**
 * A fresh database migrated by this plugin and those upstream of it (production's tables), and
 * by the `downstream` plugins a test also needs.
 */
export function warehouseBed(
  options: Omit<TestBedOptions, 'plugins'> & { readonly downstream?: readonly PluginManifest[] } = {},
): Promise<TestBed> {
  const { downstream = [], ...bed } = options;
  return createTestBed({
    plugins: [dataGeneration, ingestion, qualityChecks, productionEtl, warehouse, ...downstream],
    ...bed,
  });
}

const WAREHOUSE_TABLES = [
  'warehouse.fact_sales',
  'warehouse.agg_daily_sales',
  'warehouse.agg_product_performance',
  'warehouse.product_performance_sums',
  'warehouse.agg_customer_metrics',
  'warehouse.dim_customers',
  'warehouse.dim_products',
  'warehouse.dim_date',
  'warehouse.dim_payment_method',
  'warehouse.customer_segment_thresholds',
  'warehouse.sales_set_aside',
] as const;

export const warehouseTables: readonly string[] = WAREHOUSE_TABLES;

/** The business date members are first put on unless a test says otherwise. */
export const BASE_DATE = '2024-03-01';

/** Empties production and warehouse (identities restart, so keys are comparable across tests). */
export async function resetData(db: Database): Promise<void> {
  await db.pool.query(
    `TRUNCATE ${WAREHOUSE_TABLES.join(', ')}, warehouse.load_state, warehouse.fact_changes,
       production.transaction_items, production.transactions, production.customers, production.products,
       production.customer_history, production.product_history, production.member_changes,
       production.withdrawn_facts RESTART IDENTITY`,
  );
}

/**
 * What `date`'s snapshot says of each customer (inactive = absent from it), as production-etl
 * records it: the history row at that date (replacing one there), the production row, and the
 * member in the warehouse's inbox from that date on.
 */
export async function putCustomers(
  db: Database,
  customers: readonly CustomerFixture[],
  date: string = BASE_DATE,
): Promise<void> {
  for (const c of customers) {
    await db.pool.query(
      `INSERT INTO production.customer_history (customer_id, business_date, observation, first_name, last_name, email, registration_date, city, state, country, age_group)
       SELECT $1, $2::date, 'present', $3, 'Doe', lower($1) || '@example.com', DATE '2023-06-01', $4, 'State', 'Country', '25-34'
       WHERE $5
       UNION ALL
       SELECT $1, $2::date, 'absent', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE NOT $5
       ON CONFLICT (customer_id, business_date) DO UPDATE
       SET observation = excluded.observation, first_name = excluded.first_name, last_name = excluded.last_name,
           email = excluded.email, registration_date = excluded.registration_date, city = excluded.city,
           state = excluded.state, country = excluded.country, age_group = excluded.age_group`,
      [c.id, date, c.firstName ?? 'Jane', c.city ?? 'Springfield', c.active ?? true],
    );
    await db.pool.query(
      `INSERT INTO production.member_changes (dimension, member_id, from_date) VALUES ('customers', $1, $2)`,
      [c.id, date],
    );
    await db.pool.query(
      `INSERT INTO production.customers (customer_id, first_name, last_name, email, registration_date, city, state, country, age_group, is_active, removed_at)
       VALUES ($1, $2, 'Doe', lower($1) || '@example.com', DATE '2023-06-01', $3, 'State', 'Country', '25-34', $4,
               CASE WHEN $4 THEN NULL ELSE now() END)
       ON CONFLICT (customer_id) DO UPDATE SET first_name = excluded.first_name, city = excluded.city,
         is_active = excluded.is_active, removed_at = excluded.removed_at, updated_at = now()`,
      [c.id, c.firstName ?? 'Jane', c.city ?? 'Springfield', c.active ?? true],
    );
  }
}

/** As `putCustomers`, for products. */
export async function putProducts(
  db: Database,
  products: readonly ProductFixture[],
  date: string = BASE_DATE,
): Promise<void> {
  for (const p of products) {
    const price = p.price ?? '100.00';
    const cost = p.cost ?? '60.00';
    await db.pool.query(
      `INSERT INTO production.product_history (product_id, business_date, observation, product_name, category, sub_category, price, cost, brand, stock_quantity, profit_margin, price_category)
       SELECT $1, $2::date, 'present', 'Product ' || $1, $3, 'General', $4::numeric, $5::numeric, 'Acme', 0,
              round(($4::numeric - $5::numeric) / $4::numeric * 100, 2),
              CASE WHEN $4::numeric < 50 THEN 'Budget' WHEN $4::numeric < 200 THEN 'Mid-range' ELSE 'Premium' END
       WHERE $6
       UNION ALL
       SELECT $1, $2::date, 'absent', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE NOT $6
       ON CONFLICT (product_id, business_date) DO UPDATE
       SET observation = excluded.observation, product_name = excluded.product_name, category = excluded.category,
           sub_category = excluded.sub_category, price = excluded.price, cost = excluded.cost, brand = excluded.brand,
           stock_quantity = excluded.stock_quantity, profit_margin = excluded.profit_margin,
           price_category = excluded.price_category`,
      [p.id, date, p.category ?? 'Books', price, cost, p.active ?? true],
    );
    await db.pool.query(
      `INSERT INTO production.member_changes (dimension, member_id, from_date) VALUES ('products', $1, $2)`,
      [p.id, date],
    );
    await db.pool.query(
      `INSERT INTO production.products (product_id, product_name, category, sub_category, price, cost, brand, profit_margin, price_category, is_active)
       VALUES ($1, 'Product ' || $1, $2, 'General', $3::numeric, $4::numeric, 'Acme',
               round(($3::numeric - $4::numeric) / $3::numeric * 100, 2),
               CASE WHEN $3::numeric < 50 THEN 'Budget' WHEN $3::numeric < 200 THEN 'Mid-range' ELSE 'Premium' END, $5)
       ON CONFLICT (product_id) DO UPDATE SET category = excluded.category, price = excluded.price, cost = excluded.cost,
         profit_margin = excluded.profit_margin, price_category = excluded.price_category, is_active = excluded.is_active,
         updated_at = now()`,
      [p.id, p.category ?? 'Books', price, cost, p.active ?? true],
    );
  }
}

/**
 * Appends transactions with their items, from the business date of their own day; totals and
 * line totals follow the generator's rules.
 */
export async function addTransactions(
  db: Database,
  transactions: readonly TransactionFixture[],
): Promise<void> {
  for (const t of transactions) {
    await db.pool.query(
      `INSERT INTO production.transactions (transaction_id, customer_id, transaction_date, transaction_time, payment_method, total_amount, source_total_amount, business_date)
       VALUES ($1, $2, $3::date, TIME '12:00', $4, 0, 0, $3::date)`,
      [t.id, t.customer, t.date, t.paymentMethod ?? 'Credit Card'],
    );
    for (const i of t.items) {
      await db.pool.query(
        `INSERT INTO production.transaction_items (item_id, transaction_id, product_id, quantity, unit_price, discount_percentage, line_total, business_date)
         VALUES ($1, $2, $3, $4::int, $5::numeric, $6::numeric, round($4::int * $5::numeric * (1 - $6::numeric / 100), 2), $7::date)`,
        [i.id, t.id, i.product, i.quantity, i.unitPrice, i.discount ?? 0, t.date],
      );
    }
    await db.pool.query(
      `UPDATE production.transactions SET total_amount =
         (SELECT coalesce(sum(line_total), 0) FROM production.transaction_items WHERE transaction_id = $1),
         source_total_amount = (SELECT coalesce(sum(line_total), 0) FROM production.transaction_items WHERE transaction_id = $1)
       WHERE transaction_id = $1`,
      [t.id],
    );
  }
}

/** One md5 per table over its rows in a fixed order: equal checksums, equal contents. */
export async function tableChecksums(db: Database): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of WAREHOUSE_TABLES) {
    const { rows } = await db.pool.query<{ checksum: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE "C"), '')) AS checksum FROM ${table} t`,
    );
    out[table] = rows[0]?.checksum ?? '';
  }
  return out;
}
