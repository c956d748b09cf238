/**
 * The checks the quality gate runs on `staging`, one SQL file each under `sql/`. A check's SQL
 * inserts every failing row into `pipeline.quarantine`; the number inserted is its failure count.
 */
export const DIMENSIONS = ['completeness', 'uniqueness', 'referential', 'consistency', 'ranges'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export type Severity = 'error' | 'warn';

export const STAGING_TABLES = ['customers', 'products', 'transactions', 'transaction_items'] as const;
export type StagingTable = (typeof STAGING_TABLES)[number];

/**
 * Values a check's SQL receives after `$1` (the run id), in this order. `earliestDate` and
 * `latestDate` bound the plausible window of business dates (`quality.plausible_dates`).
 */
export type CheckParameter = 'runDate' | 'tolerance' | 'earliestDate' | 'latestDate';

/** The report's section of `checks_performed` that each dimension fills (the original's key names). */
export const REPORT_SECTIONS: Readonly<Record<Dimension, string>> = {
  completeness: 'null_checks',
  uniqueness: 'duplicate_checks',
  referential: 'referential_integrity',
  consistency: 'data_consistency',
  ranges: 'range_checks',
};

export interface CheckDefinition {
  readonly name: string;
  readonly dimension: Dimension;
  readonly table: StagingTable;
  /** Key of the check's entry under its table in the report section (a column or a rule). */
  readonly key: string;
  readonly defaultSeverity: Severity;
  readonly description: string;
  readonly parameters: readonly CheckParameter[];
}

const completeness = (table: StagingTable): CheckDefinition => ({
  name: `${table}_missing_values`,
  dimension: 'completeness',
  table,
  key: 'mandatory_fields',
  defaultSeverity: 'error',
  description: `a mandatory field of staging.${table} is NULL or blank`,
  parameters: [],
});

const duplicateId = (table: StagingTable, idColumn: string): CheckDefinition => ({
  name: `${table}_duplicate_id`,
  dimension: 'uniqueness',
  table,
  key: idColumn,
  defaultSeverity: 'error',
  description: `${idColumn} occurs more than once in staging.${table}`,
  parameters: [],
});

/**
 * Per table with numbers: NaN, an infinity or 10^10 and more (`<table>_numbers_finite`), and more
 * than two decimals (`<table>_numbers_exact`). Staging takes any number, so that these reach the
 * gate instead of being rounded or refused without a row named; production holds none of them.
 */
function numberChecks(table: StagingTable, fields: string): CheckDefinition[] {
  return [
    range(
      `${table}_numbers_finite`,
      table,
      'numbers_finite',
      'error',
      `${fields}: NaN, Infinity or -Infinity, or 10^10 and more (beyond production's numeric(12,2))`,
    ),
    range(
      `${table}_numbers_exact`,
      table,
      'numbers_exact',
      'error',
      `${fields}: more than two decimals (production keeps cents and would round)`,
    ),
  ];
}

/**
 * Defaults: anything production cannot load or would load wrongly (missing values, duplicates,
 * orphans, wrong sums, broken price/quantity/discount rules, numbers it cannot hold exactly, dates
 * outside the plausible window) is an error; a date after the run date or a malformed email is a
 * warning, since the row is still loadable and the fix is upstream.
 */
export const CHECKS: readonly CheckDefinition[] = [
  ...STAGING_TABLES.map(completeness),
  duplicateId('customers', 'customer_id'),
  duplicateId('products', 'product_id'),
  duplicateId('transactions', 'transaction_id'),
  duplicateId('transaction_items', 'item_id'),
  {
    name: 'customers_duplicate_email',
    dimension: 'uniqueness',
    table: 'customers',
    key: 'email',
    defaultSeverity: 'error',
    description: 'two customers share an email (compared trimmed and case-insensitively)',
    parameters: [],
  },
  {
    name: 'transactions_orphan_customer',
    dimension: 'referential',
    table: 'transactions',
    key: 'customer_id',
    defaultSeverity: 'error',
    description:
      'transactions.customer_id has no row in staging.customers and no customer of that id was present on an earlier business date',
    parameters: ['runDate'],
  },
  {
    name: 'transaction_items_orphan_transaction',
    dimension: 'referential',
    table: 'transaction_items',
    key: 'transaction_id',
    defaultSeverity: 'error',
    description:
      'transaction_items.transaction_id has no row in staging.transactions and no transaction of an earlier business date has that id',
    parameters: ['runDate'],
  },
  {
    name: 'transaction_items_orphan_product',
    dimension: 'referential',
    table: 'transaction_items',
    key: 'product_id',
    defaultSeverity: 'error',
    description:
      'transaction_items.product_id has no row in staging.products and no product of that id was present on an earlier business date',
    parameters: ['runDate'],
  },
  {
    name: 'transaction_items_line_total',
    dimension: 'consistency',
    table: 'transaction_items',
    key: 'line_total',
    defaultSeverity: 'error',
    description:
      'line_total differs from round(quantity * unit_price * (1 - discount_percentage / 100), 2) by more than the tolerance',
    parameters: ['tolerance'],
  },
  {
    name: 'transactions_total_amount',
    dimension: 'consistency',
    table: 'transactions',
    key: 'total_amount',
    defaultSeverity: 'error',
    description: "total_amount differs from the sum of its items' line_total by more than the tolerance",
    parameters: ['tolerance'],
  },
  range('products_price_positive', 'products', 'price', 'error', 'price is not above 0'),
  range('products_cost_non_negative', 'products', 'cost', 'error', 'cost is below 0'),
  range('products_cost_below_price', 'products', 'cost_below_price', 'error', 'cost is not below price'),
  range('products_stock_non_negative', 'products', 'stock_quantity', 'error', 'stock_quantity is below 0'),
  range(
    'transaction_items_quantity_positive',
    'transaction_items',
    'quantity',
    'error',
    'quantity is not above 0',
  ),
  range(
    'transaction_items_discount_range',
    'transaction_items',
    'discount_percentage',
    'error',
    'discount_percentage is outside 0..100',
  ),
  {
    ...range(
      'transactions_date_not_future',
      'transactions',
      'transaction_date',
      'warn',
      'transaction_date is after the run date',
    ),
    parameters: ['runDate'],
  },
  {
    ...range(
      'customers_registration_not_future',
      'customers',
      'registration_date',
      'warn',
      'registration_date is after the run date',
    ),
    parameters: ['runDate'],
  },
  range('customers_email_format', 'customers', 'email', 'warn', 'email is not shaped like local@domain.tld'),
  ...numberChecks('products', 'price or cost'),
  ...numberChecks('transactions', 'total_amount'),
  ...numberChecks('transaction_items', 'unit_price, discount_percentage or line_total'),
  {
    ...range(
      'transactions_date_plausible',
      'transactions',
      'transaction_date_plausible',
      'error',
      'transaction_date is infinite or outside the plausible window (quality.plausible_dates)',
    ),
    parameters: ['earliestDate', 'latestDate'],
  },
  {
    ...range(
      'customers_registration_plausible',
      'customers',
      'registration_date_plausible',
      'error',
      'registration_date is infinite or outside the plausible window (quality.plausible_dates)',
    ),
    parameters: ['earliestDate', 'latestDate'],
  },
];

function range(
  name: string,
  table: StagingTable,
  key: string,
  defaultSeverity: Severity,
  description: string,
): CheckDefinition {
  return { name, dimension: 'ranges', table, key, defaultSeverity, description, parameters: [] };
}

export const CHECK_NAMES = CHECKS.map((c) => c.name) as [string, ...string[]];
