/**
 * The raw layer's CSV files and their columns, in the contract's order
 * (shared/spec/warehouse-contract.md). Users' own tools write these files, the generator writes
 * them, ingestion reads them: one definition for all.
 */
/** The folder under the data folder where raw files land (the generator writes, ingestion reads). */
export const RAW_FOLDER = 'raw';

export const RAW_CSV_COLUMNS = {
  customers: [
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
  products: [
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
  transactions: [
    'transaction_id',
    'customer_id',
    'transaction_date',
    'transaction_time',
    'payment_method',
    'shipping_address',
    'total_amount',
  ],
  transaction_items: [
    'item_id',
    'transaction_id',
    'product_id',
    'quantity',
    'unit_price',
    'discount_percentage',
    'line_total',
  ],
} as const satisfies Record<string, readonly string[]>;

export type RawFile = keyof typeof RAW_CSV_COLUMNS;

/** `customers` -> `customers.csv`. */
export const rawFileName = (file: RawFile): string => `${file}.csv`;
