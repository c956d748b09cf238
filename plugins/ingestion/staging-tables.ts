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
    columns: [
      'customer_id',
      'first_name',
      'last_name',
      'email',
      'phone',
      'registration_date',
      'city',
      'state',
      'country',
      'age_group',
    ],
  },
  {
    file: 'products.csv',
    table: 'staging.products',
    columns: [
      'product_id',
      'product_name',
      'category',
      'sub_category',
      'price',
      'cost',
      'brand',
      'stock_quantity',
      'supplier_id',
    ],
  },
  {
    file: 'transactions.csv',
    table: 'staging.transactions',
    columns: [
      'transaction_id',
      'customer_id',
      'transaction_date',
      'transaction_time',
      'payment_method',
      'shipping_address',
      'total_amount',
    ],
  },
  {
    file: 'transaction_items.csv',
    table: 'staging.transaction_items',
    columns: [
      'item_id',
      'transaction_id',
      'product_id',
      'quantity',
      'unit_price',
      'discount_percentage',
      'line_total',
    ],
  },
];
