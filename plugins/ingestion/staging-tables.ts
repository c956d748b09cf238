import { RAW_CSV_COLUMNS } from '@pipeline/kernel';

/** A raw CSV file and the staging table it lands in (names fixed by the warehouse contract). */
export interface StagingTable {
  readonly file: string;
  readonly table: string;
  /** The header columns the file must carry, in any order; the staging table has the same names. */
  readonly columns: readonly string[];
}

/** In load order: dimensions first, so a reader of a partial summary sees the parents first. */
export const STAGING_TABLES: readonly StagingTable[] = [
  {
    file: 'customers.csv',
    table: 'staging.customers',
    columns: [...RAW_CSV_COLUMNS.customers],
  },
  {
    file: 'products.csv',
    table: 'staging.products',
    columns: [...RAW_CSV_COLUMNS.products],
  },
  {
    file: 'transactions.csv',
    table: 'staging.transactions',
    columns: [...RAW_CSV_COLUMNS.transactions],
  },
  {
    file: 'transaction_items.csv',
    table: 'staging.transaction_items',
    columns: [...RAW_CSV_COLUMNS.transaction_items],
  },
];
