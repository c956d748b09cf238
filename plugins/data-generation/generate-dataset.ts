import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RAW_CSV_COLUMNS } from '../../libs/contract/index.js';
import { PermanentError } from '../../libs/kernel/index.js';
import { dayNumberOf } from './calendar.js';
import { CsvFileWriter, type WrittenFile } from './csv-file-writer.js';
import { formatId, ID_WIDTH } from './csv-format.js';
import type { DataGenerationSettings } from './data-generation.config.js';
import {
  categoriesOf,
  CustomerFactory,
  evolveCustomer,
  evolveProduct,
  ProductFactory,
  type EvolutionShares,
  type MemberEvent,
} from './population.js';
import { Random, Stream } from './random.js';
import { SalesCalendar, TransactionWriter, type CustomerSnapshot, type ProductSnapshot } from './sales.js';
import { buildVocabulary } from './vocabulary.js';

/** The files of the raw folder, with the contract's headers in the contract's order. */
export const RAW_FILES = {
  customers: {
    name: 'customers.csv',
    table: 'raw.customers',
    header: [...RAW_CSV_COLUMNS.customers],
  },
  products: {
    name: 'products.csv',
    table: 'raw.products',
    header: [...RAW_CSV_COLUMNS.products],
  },
  transactions: {
    name: 'transactions.csv',
    table: 'raw.transactions',
    header: [...RAW_CSV_COLUMNS.transactions],
  },
  transactionItems: {
    name: 'transaction_items.csv',
    table: 'raw.transaction_items',
    header: [...RAW_CSV_COLUMNS.transaction_items],
  },
} as const;

export const METADATA_FILE = 'generation_metadata.json';
export const FAKER_VERSION = '10.6.0';

export interface GenerationRequest {
  readonly settings: DataGenerationSettings;
  /** The business date; in daily mode, the day whose increment is generated. */
  readonly runDate: string;
  readonly rawDir: string;
  readonly signal: AbortSignal;
  /** Called when every file is complete under its temporary name, just before they are published. */
  readonly beforePublish?: () => Promise<void>;
}

export interface MemberChanges {
  changed: number;
  disappeared: number;
  returned: number;
  /** Members missing from the snapshot (disappeared on this or an earlier day). */
  absent: number;
}

export interface GenerationMetadata {
  readonly generator: 'data-generation';
  readonly faker_version: string;
  readonly timestamp: string;
  readonly mode: 'full' | 'daily';
  readonly seed: number;
  /** The day the customer and product snapshot describes. */
  readonly as_of: string;
  /** Dates of the transactions in this output. */
  readonly date_range: { readonly start: string; readonly end: string };
  readonly record_counts: Readonly<
    Record<'customers' | 'products' | 'transactions' | 'transaction_items', number>
  >;
  readonly id_ranges: Readonly<
    Record<'transactions' | 'transaction_items', { readonly first: string; readonly last: string } | null>
  >;
  readonly referential_integrity: {
    readonly valid: boolean;
    readonly transactions_to_missing_customers: number;
    readonly items_to_missing_products: number;
  };
  /** Daily mode: how the snapshot moved on the run date. */
  readonly daily: {
    readonly day_number: number;
    readonly customers: MemberChanges;
    readonly products: MemberChanges;
  } | null;
  readonly files: Readonly<
    Record<string, { readonly rows: number; readonly bytes: number; readonly sha256: string }>
  >;
}

export interface GenerationOutcome {
  readonly metadata: GenerationMetadata;
  readonly files: readonly WrittenFile[];
}

const noChanges = (): MemberChanges => ({ changed: 0, disappeared: 0, returned: 0, absent: 0 });

function tally(changes: MemberChanges, present: boolean, event: MemberEvent): void {
  if (!present) changes.absent++;
  if (event) changes[event]++;
}

/**
 * Writes the four raw CSV files and `generation_metadata.json`. Full mode: the whole data set of
 * the configured range. Daily mode: the customer and product snapshot as of the run date plus
 * that day's transactions only, with ids continuing after the full set and every earlier day.
 */
export async function generateDataset(request: GenerationRequest): Promise<GenerationOutcome> {
  const { settings, rawDir, signal } = request;
  const startDay = dayNumberOf(settings.start_date)!;
  const endDay = dayNumberOf(settings.end_date)!;
  const runDay = dayNumberOf(request.runDate);
  if (runDay === null)
    throw new PermanentError(`data-generation: run date "${request.runDate}" is not a YYYY-MM-DD date`);
  const daily = settings.mode === 'daily';
  const dayOffset = daily ? runDay - endDay : 0;
  if (daily && dayOffset < 1) {
    throw new PermanentError(
      `data-generation: data_generation.mode is daily, so the run date must be after data_generation.end_date (${settings.end_date}); got ${request.runDate}`,
    );
  }
  const shares: EvolutionShares = {
    change: settings.daily.change_share,
    disappear: settings.daily.disappear_share,
    return: settings.daily.return_share,
  };
  const vocabulary = await buildVocabulary(
    settings.seed,
    new Date(`${settings.reference_date ?? settings.end_date}T00:00:00Z`),
  );

  await mkdir(rawDir, { recursive: true });
  const writers = {
    customers: CsvFileWriter.open(rawDir, RAW_FILES.customers.name, RAW_FILES.customers.header),
    products: CsvFileWriter.open(rawDir, RAW_FILES.products.name, RAW_FILES.products.header),
    transactions: CsvFileWriter.open(rawDir, RAW_FILES.transactions.name, RAW_FILES.transactions.header),
    items: CsvFileWriter.open(rawDir, RAW_FILES.transactionItems.name, RAW_FILES.transactionItems.header),
  };
  const all = Object.values(writers);
  try {
    // Full mode is day 0 of the evolution: every member present, nothing changed yet.
    const customerChanges = noChanges();
    const customerFactory = new CustomerFactory(settings, vocabulary, startDay);
    const place = new Int32Array(settings.customers);
    const customerMembers = await writeSnapshot(writers.customers, settings.customers, signal, (index) => {
      customerFactory.next(index);
      const state = evolveCustomer(
        settings.seed,
        index,
        customerFactory.place,
        dayOffset,
        customerFactory.places,
        shares,
      );
      tally(customerChanges, state.present, state.event);
      place[index] = state.place;
      return state.present ? customerFactory.line(state.place) : null;
    });
    const customers: CustomerSnapshot = { ...customerMembers, place, idWidth: customerFactory.width };

    const productChanges = noChanges();
    const productFactory = new ProductFactory(settings, vocabulary, categoriesOf(settings));
    const priceCents = new Int32Array(settings.products);
    const productMembers = await writeSnapshot(writers.products, settings.products, signal, (index) => {
      productFactory.next(index);
      const state = evolveProduct(
        settings.seed,
        index,
        productFactory.base,
        dayOffset,
        productFactory.categories,
        shares,
      );
      tally(productChanges, state.present, state.event);
      priceCents[index] = state.priceCents;
      return state.present ? productFactory.line(state) : null;
    });
    const products: ProductSnapshot = { ...productMembers, priceCents, idWidth: productFactory.width };

    const calendar = new SalesCalendar(settings);
    const firstTransaction = daily ? calendar.transactionsBefore(endDay, dayOffset) : 0;
    const firstItem = daily ? calendar.itemsBefore(firstTransaction) : 0;
    const random = daily
      ? new Random(settings.seed, Stream.dailyTransactions, dayOffset)
      : new Random(settings.seed, Stream.transactions);
    const sales = new TransactionWriter({
      settings,
      vocabulary,
      calendar,
      random,
      customers,
      products,
      transactions: writers.transactions,
      items: writers.items,
      signal,
      firstTransaction,
      firstItem,
    });
    if (daily) {
      await sales.writeDay(runDay, calendar.dailyCount(runDay));
    } else {
      for (const { day, count } of calendar.fullDays(startDay, endDay)) await sales.writeDay(day, count);
    }

    const files = await Promise.all(all.map((w) => w.finish()));
    const check = sales.referenceCheck;
    const valid = check.transactionsToMissingCustomers === 0 && check.itemsToMissingProducts === 0;
    if (!valid)
      throw new Error(
        `data-generation: generated references to members missing from the snapshot: ${JSON.stringify(check)}`,
      );
    const [customerFile, productFile, transactionFile, itemFile] = files as [
      WrittenFile,
      WrittenFile,
      WrittenFile,
      WrittenFile,
    ];
    const range = (prefix: string, first: number, next: number, width: number) =>
      next > first
        ? { first: formatId(prefix, first + 1, width), last: formatId(prefix, next, width) }
        : null;

    const metadata: GenerationMetadata = {
      generator: 'data-generation',
      faker_version: FAKER_VERSION,
      timestamp: `${settings.reference_date ?? request.runDate}T00:00:00.000Z`,
      mode: settings.mode,
      seed: settings.seed,
      as_of: daily ? request.runDate : settings.end_date,
      date_range: daily
        ? { start: request.runDate, end: request.runDate }
        : { start: settings.start_date, end: settings.end_date },
      record_counts: {
        customers: customerFile.rows,
        products: productFile.rows,
        transactions: transactionFile.rows,
        transaction_items: itemFile.rows,
      },
      id_ranges: {
        transactions: range('TXN', firstTransaction, sales.nextTransaction, ID_WIDTH.transaction),
        transaction_items: range('ITEM', firstItem, sales.nextItem, ID_WIDTH.item),
      },
      referential_integrity: {
        valid,
        transactions_to_missing_customers: check.transactionsToMissingCustomers,
        items_to_missing_products: check.itemsToMissingProducts,
      },
      daily: daily ? { day_number: dayOffset, customers: customerChanges, products: productChanges } : null,
      files: Object.fromEntries(
        files.map((f) => [f.name, { rows: f.rows, bytes: f.bytes, sha256: f.sha256 }]),
      ),
    };
    await request.beforePublish?.();
    signal.throwIfAborted();
    for (const writer of all) await writer.commit();
    const metadataPath = join(rawDir, METADATA_FILE);
    await writeFile(`${metadataPath}.tmp`, JSON.stringify(metadata, null, 2) + '\n', { flush: true });
    await rename(`${metadataPath}.tmp`, metadataPath);
    return { metadata, files };
  } catch (error) {
    await Promise.all(all.map((w) => w.discard()));
    throw error;
  }
}

interface Membership {
  readonly present: Int32Array;
  readonly presentCount: number;
  readonly isPresent: Uint8Array;
}

/** Writes the line of every present member; `lineOf` draws member `index` and gives null when it is absent. */
async function writeSnapshot(
  writer: CsvFileWriter,
  count: number,
  signal: AbortSignal,
  lineOf: (index: number) => string | null,
): Promise<Membership> {
  const members = { present: new Int32Array(count), presentCount: 0, isPresent: new Uint8Array(count) };
  for (let index = 0; index < count; index++) {
    const line = lineOf(index);
    if (line === null) continue;
    members.isPresent[index] = 1;
    members.present[members.presentCount++] = index;
    if (writer.add(line)) {
      signal.throwIfAborted();
      await writer.flush();
    }
  }
  return members;
}
