import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { RAW_CSV_COLUMNS, PermanentError } from '@pipeline/kernel';
import { dayNumberOf, isoDateOf } from './calendar.js';
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
import {
  chunkRandom,
  chunkTransactionsFor,
  SalesCalendar,
  TransactionWriter,
  type CustomerSnapshot,
  type ProductSnapshot,
  type ReferenceCheck,
  type TransactionChunk,
} from './sales.js';
import {
  generateChunksInWorkers,
  WORKER_RESOURCE_LIMITS,
  workersFor,
  type WorkerSetup,
} from './transaction-workers.js';
import { buildVocabulary, type Vocabulary } from './vocabulary.js';

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

/** Chunks generated and not yet written, per worker. */
const CHUNKS_IN_FLIGHT_PER_WORKER = 2;

/**
 * Knobs for tests and benchmarks. `chunkTransactions` is part of what defines the output (chunks
 * have their own random streams); only tests change it, to get many chunks out of a small data set.
 */
export interface GenerationTuning {
  readonly chunkTransactions?: number;
  readonly minTransactionsForWorkers?: number;
  readonly workerResourceLimits?: ResourceLimits;
  readonly onWorker?: (worker: Worker) => void;
}

export interface GenerationRequest {
  readonly settings: DataGenerationSettings;
  /** The business date; in daily mode, the day whose increment is generated. */
  readonly runDate: string;
  /**
   * `auto` mode: the latest business date before the run's on which the stage succeeded, or null
   * (the stage context's `succeededBefore`).
   */
  readonly succeededBefore?: string | null;
  readonly rawDir: string;
  readonly signal: AbortSignal;
  /** Called when every file is complete under its temporary name, just before they are published. */
  readonly beforePublish?: () => Promise<void>;
  readonly tuning?: GenerationTuning;
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
  /** Worker threads that generated the transactions (0: the main thread did). */
  readonly workers: number;
}

const noChanges = (): MemberChanges => ({ changed: 0, disappeared: 0, returned: 0, absent: 0 });

function tally(changes: MemberChanges, present: boolean, event: MemberEvent): void {
  if (!present) changes.absent++;
  if (event) changes[event]++;
}

/**
 * The mode a run generates in. `auto`: the full data set on the first business date the stage
 * generates for (no earlier date succeeded), the day's increment on every later one, so that a
 * daemon deployed with the defaults loads the history once and then one day at a time. A run date
 * within the full data set's range is always a full load (an increment must come after it).
 */
export function generationMode(
  settings: Pick<DataGenerationSettings, 'mode' | 'end_date'>,
  runDate: string,
  succeededBefore: string | null,
): 'full' | 'daily' {
  if (settings.mode !== 'auto') return settings.mode;
  return succeededBefore !== null && runDate > settings.end_date ? 'daily' : 'full';
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
  const mode = generationMode(settings, request.runDate, request.succeededBefore ?? null);
  const daily = mode === 'daily';
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
    const place = sharedInt32Array(settings.customers);
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
    const priceCents = sharedInt32Array(settings.products);
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
    const days = daily
      ? [{ day: runDay, count: calendar.dailyCount(runDay) }]
      : [...calendar.fullDays(startDay, endDay)];
    const transactionCount = days.reduce((sum, { count }) => sum + count, 0);
    if (transactionCount > 0 && (customers.presentCount === 0 || products.presentCount === 0)) {
      throw new PermanentError(
        `data-generation: no customer or product is left in the snapshot of ${daily ? request.runDate : isoDateOf(startDay)} ` +
          `(check data_generation.daily.disappear_share and return_share), so its ${transactionCount} transactions cannot reference any`,
      );
    }
    const tuning = request.tuning ?? {};
    const chunkSize = tuning.chunkTransactions ?? chunkTransactionsFor(settings);
    const chunks = calendar.chunks(days, firstTransaction, firstItem, chunkSize);
    const workers = Math.min(
      workersFor(settings.workers, transactionCount, tuning.minTransactionsForWorkers),
      Math.ceil(transactionCount / chunkSize),
    );
    const sales = { customers, products, vocabulary, settings, calendar, dayOffset };
    const check =
      workers > 0
        ? await writeInWorkers(sales, chunks, workers, writers, signal, tuning)
        : await writeOnMainThread(sales, chunks, writers, signal);
    const files = await Promise.all(all.map((w) => w.finish()));
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
    const nextTransaction = firstTransaction + transactionFile.rows;
    const nextItem = firstItem + itemFile.rows;
    const range = (prefix: string, first: number, next: number, width: number) =>
      next > first
        ? { first: formatId(prefix, first + 1, width), last: formatId(prefix, next, width) }
        : null;

    const metadata: GenerationMetadata = {
      generator: 'data-generation',
      faker_version: FAKER_VERSION,
      timestamp: `${settings.reference_date ?? request.runDate}T00:00:00.000Z`,
      mode,
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
        transactions: range('TXN', firstTransaction, nextTransaction, ID_WIDTH.transaction),
        transaction_items: range('ITEM', firstItem, nextItem, ID_WIDTH.item),
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
    return { metadata, files, workers };
  } catch (error) {
    await Promise.all(all.map((w) => w.discard()));
    throw error;
  }
}

/** The snapshot lives in shared memory so that workers read it in place instead of each holding a copy. */
function sharedInt32Array(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
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
  const members = {
    present: sharedInt32Array(count),
    presentCount: 0,
    isPresent: new Uint8Array(new SharedArrayBuffer(count)),
  };
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

/** What writing the transactions needs, on whichever thread. */
interface SalesInputs {
  readonly settings: DataGenerationSettings;
  readonly vocabulary: Vocabulary;
  readonly calendar: SalesCalendar;
  readonly customers: CustomerSnapshot;
  readonly products: ProductSnapshot;
  readonly dayOffset: number;
}

interface SalesFiles {
  readonly transactions: CsvFileWriter;
  readonly items: CsvFileWriter;
}

async function writeOnMainThread(
  inputs: SalesInputs,
  chunks: Iterable<TransactionChunk>,
  files: SalesFiles,
  signal: AbortSignal,
): Promise<ReferenceCheck> {
  const writer = new TransactionWriter({
    ...inputs,
    transactions: files.transactions,
    items: files.items,
    signal,
  });
  const total = { transactionsToMissingCustomers: 0, itemsToMissingProducts: 0 };
  for (const chunk of chunks) {
    signal.throwIfAborted();
    addReferenceCheck(
      total,
      await writer.writeChunk(chunk, chunkRandom(inputs.settings.seed, inputs.dayOffset, chunk.index)),
    );
  }
  return total;
}

async function writeInWorkers(
  inputs: SalesInputs,
  chunks: Iterable<TransactionChunk>,
  workers: number,
  files: SalesFiles,
  signal: AbortSignal,
  tuning: GenerationTuning,
): Promise<ReferenceCheck> {
  const setup: WorkerSetup = {
    settings: inputs.settings,
    vocabulary: inputs.vocabulary,
    customers: inputs.customers,
    products: inputs.products,
    dayOffset: inputs.dayOffset,
  };
  const total = { transactionsToMissingCustomers: 0, itemsToMissingProducts: 0 };
  await generateChunksInWorkers({
    count: workers,
    setup,
    chunks,
    maxInFlight: workers * CHUNKS_IN_FLIGHT_PER_WORKER,
    signal,
    resourceLimits: tuning.workerResourceLimits ?? WORKER_RESOURCE_LIMITS,
    ...(tuning.onWorker ? { onWorker: tuning.onWorker } : {}),
    write: async (chunk, { transactions, items, check }) => {
      if (transactions.rows !== chunk.transactions || items.rows !== chunk.items) {
        throw new Error(
          `data-generation: transaction chunk ${chunk.index} came back with ${transactions.rows} transactions and ${items.rows} items, expected ${chunk.transactions} and ${chunk.items}`,
        );
      }
      await Promise.all([
        files.transactions.write(
          new Uint8Array(transactions.buffer, 0, transactions.length),
          transactions.rows,
        ),
        files.items.write(new Uint8Array(items.buffer, 0, items.length), items.rows),
      ]);
      addReferenceCheck(total, check);
    },
  });
  return total;
}

function addReferenceCheck(
  total: { transactionsToMissingCustomers: number; itemsToMissingProducts: number },
  check: ReferenceCheck,
): void {
  total.transactionsToMissingCustomers += check.transactionsToMissingCustomers;
  total.itemsToMissingProducts += check.itemsToMissingProducts;
}
