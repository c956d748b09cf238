import { isoDateOf, monthOf, timeOfDay, weekdayOf } from './calendar.js';
import { csvField, formatCents, formatId, formatPercent, ID_WIDTH, lineTotalCents } from './csv-format.js';
import type { DataGenerationSettings } from './data-generation.config.js';
import { hash32, Random, Stream } from './random.js';
import type { Vocabulary } from './vocabulary.js';

// This module is also the body of the generation workers: it imports nothing heavier than the
// plugin's own arithmetic, so a worker starts in milliseconds.

/** Sunday .. Saturday: weekends sell more. */
const WEEKDAY_WEIGHT = [112, 95, 95, 96, 97, 100, 112] as const;
/** January .. December: the year-end season sells more. */
const MONTH_WEIGHT = [95, 92, 97, 97, 98, 96, 97, 99, 97, 100, 112, 120] as const;
/** A day's weight is about WEIGHT_SCALE on average. */
const WEIGHT_SCALE = 1_000_000;
const SECONDS_PER_DAY = 86_400;
/** Picks of an already chosen product are retried this often before a repeat is accepted. */
const DISTINCT_PRODUCT_TRIES = 8;
/**
 * Rows (transactions and items) a chunk aims at: 8,192 transactions of 1-5 items, about 2.5 MB of
 * CSV. Large enough that handing a chunk to a worker costs nothing next to generating it, small
 * enough that the chunks in flight and their buffers keep memory flat (16,384 transactions a
 * chunk measured 10-20 MB more at the peak of a 1M-transaction run with two workers).
 */
const CHUNK_ROWS = 32_768;

/** Transactions `from` .. `to - 1` (0-based, in time order) of the `dayCount` transactions of `day`. */
export interface DayPart {
  readonly day: number;
  readonly dayCount: number;
  readonly from: number;
  readonly to: number;
}

/**
 * A run of consecutive transactions generated as one unit, on the main thread or in a worker, with
 * its own random stream. Chunks are cut from the days alone (never from the number of workers), so
 * the files are the same bytes whoever generates which chunk.
 */
export interface TransactionChunk {
  /** 0, 1, 2, ... in file order; also selects the chunk's random stream. */
  readonly index: number;
  /** 0-based numbers of the chunk's first transaction and item in the global id sequences. */
  readonly firstTransaction: number;
  readonly firstItem: number;
  readonly transactions: number;
  readonly items: number;
  readonly parts: readonly DayPart[];
}

/** Transactions per chunk for these settings: about CHUNK_ROWS rows whatever the items per transaction. */
export function chunkTransactionsFor(settings: DataGenerationSettings): number {
  const { min, max } = settings.items_per_transaction;
  return Math.max(1, Math.floor(CHUNK_ROWS / (1 + (min + max) / 2)));
}

/**
 * The random stream of one chunk. Chunk 0 draws from the stream the generator used before it was
 * cut into chunks, so a data set of one chunk (a usual daily increment, a full set of up to about
 * 8,000 transactions) is the same as before.
 */
export function chunkRandom(seed: number, dayOffset: number, chunk: number): Random {
  if (dayOffset === 0) return new Random(seed, Stream.transactions, chunk);
  return chunk === 0
    ? new Random(seed, Stream.dailyTransactions, dayOffset)
    : new Random(seed, Stream.dailyChunks, hash32(dayOffset, chunk));
}

/**
 * How many transactions fall on each day and how many items each has. Every count is a pure
 * function of (seed, config, day or transaction number), which is what lets a daily run compute
 * where its ids start without reading anything an earlier run wrote.
 */
export class SalesCalendar {
  private readonly seed: number;
  private readonly itemsMin: number;
  private readonly itemsSpan: number;

  constructor(private readonly settings: DataGenerationSettings) {
    this.seed = settings.seed;
    this.itemsMin = settings.items_per_transaction.min;
    this.itemsSpan = settings.items_per_transaction.max - settings.items_per_transaction.min + 1;
  }

  /** Items of transaction `n` (0-based, counted over the full set and every later day). */
  itemCount(n: number): number {
    return this.itemsMin + (hash32(this.seed, Stream.itemCounts, n) % this.itemsSpan);
  }

  /** Items of transactions 0 .. n-1. */
  itemsBefore(n: number): number {
    let items = 0;
    for (let i = 0; i < n; i++) items += this.itemCount(i);
    return items;
  }

  dayWeight(day: number): number {
    const noise = 85 + (hash32(this.seed, Stream.dayWeights, day) % 31);
    return WEEKDAY_WEIGHT[weekdayOf(day)]! * MONTH_WEIGHT[monthOf(day)]! * noise;
  }

  /**
   * The full set's transactions spread over its days in proportion to their weights; the counts
   * add up to exactly `transactions` (cumulative flooring, in BigInt to stay exact).
   */
  *fullDays(startDay: number, endDay: number): Generator<{ day: number; count: number }> {
    const weights: number[] = [];
    let total = 0;
    for (let day = startDay; day <= endDay; day++) {
      const weight = this.dayWeight(day);
      weights.push(weight);
      total += weight;
    }
    const transactions = BigInt(this.settings.transactions);
    const totalWeight = BigInt(total);
    let cumulative = 0n;
    let allocated = 0n;
    for (let i = 0; i < weights.length; i++) {
      cumulative += BigInt(weights[i]!);
      const upTo = (transactions * cumulative) / totalWeight;
      yield { day: startDay + i, count: Number(upTo - allocated) };
      allocated = upTo;
    }
  }

  /** Transactions of a day after the full range: about `daily.transactions`, shaped by the day's weight. */
  dailyCount(day: number): number {
    return Math.round((this.settings.daily.transactions * this.dayWeight(day)) / WEIGHT_SCALE);
  }

  /** Transactions written before day `endDay + offset` (offset >= 1): the full set and the days before. */
  transactionsBefore(endDay: number, offset: number): number {
    let count = this.settings.transactions;
    for (let k = 1; k < offset; k++) count += this.dailyCount(endDay + k);
    return count;
  }

  /**
   * Cuts the days into chunks of at most `size` transactions: whole days in order while they fit,
   * and a day larger than a chunk into parts of `size` (each part then draws its times inside its
   * share of the day, which keeps ids in time order across the cut).
   */
  *chunks(
    days: Iterable<{ day: number; count: number }>,
    firstTransaction: number,
    firstItem: number,
    size: number,
  ): Generator<TransactionChunk> {
    let index = 0;
    let nextTransaction = firstTransaction;
    let nextItem = firstItem;
    let parts: DayPart[] = [];
    let pending = 0;
    const cut = (): TransactionChunk => {
      let items = 0;
      for (let n = nextTransaction; n < nextTransaction + pending; n++) items += this.itemCount(n);
      const chunk = {
        index: index++,
        firstTransaction: nextTransaction,
        firstItem: nextItem,
        transactions: pending,
        items,
        parts,
      };
      nextTransaction += pending;
      nextItem += items;
      parts = [];
      pending = 0;
      return chunk;
    };
    for (const { day, count } of days) {
      if (count === 0) continue;
      if (pending > 0 && pending + count > size) yield cut();
      if (count <= size) {
        parts.push({ day, dayCount: count, from: 0, to: count });
        pending += count;
        continue;
      }
      for (let from = 0; from < count; from += size) {
        const to = Math.min(count, from + size);
        parts.push({ day, dayCount: count, from, to });
        pending = to - from;
        yield cut();
      }
    }
    if (pending > 0) yield cut();
  }
}

/** The members a day's transactions may reference, with what a line needs from them. */
export interface CustomerSnapshot {
  /** Indices of the customers in the snapshot. */
  readonly present: Int32Array;
  readonly presentCount: number;
  readonly isPresent: Uint8Array;
  /** Current place of each customer (index into the vocabulary's places). */
  readonly place: Int32Array;
  readonly idWidth: number;
}

export interface ProductSnapshot {
  readonly present: Int32Array;
  readonly presentCount: number;
  readonly isPresent: Uint8Array;
  readonly priceCents: Int32Array;
  readonly idWidth: number;
}

export interface ReferenceCheck {
  readonly transactionsToMissingCustomers: number;
  readonly itemsToMissingProducts: number;
}

/** Where the writer's lines go: a file on the main thread, a chunk's bytes in a worker. */
export interface LineSink {
  /** Adds one line (without its line end); true when the caller should `flush()`. */
  add(line: string): boolean;
  flush(): Promise<void> | void;
}

export interface TransactionWriterOptions {
  readonly settings: DataGenerationSettings;
  readonly vocabulary: Vocabulary;
  readonly calendar: SalesCalendar;
  readonly customers: CustomerSnapshot;
  readonly products: ProductSnapshot;
  readonly transactions: LineSink;
  readonly items: LineSink;
  /** Checked whenever a sink is flushed (workers are stopped from outside instead). */
  readonly signal?: AbortSignal;
}

/**
 * Writes the transactions of a chunk and their items. Every value comes from the chunk, its
 * random stream and the snapshots, so chunks can be written in any order, by any thread.
 */
export class TransactionWriter {
  private readonly payments: readonly string[];
  private readonly discountHundredths: readonly number[];
  private readonly discountText: readonly string[];
  private readonly chosen: Int32Array;

  constructor(private readonly options: TransactionWriterOptions) {
    const { settings } = options;
    this.payments = settings.payment_methods.map(csvField);
    this.discountHundredths = settings.discounts.map((d) => Math.round(d * 100));
    this.discountText = this.discountHundredths.map(formatPercent);
    this.chosen = new Int32Array(settings.items_per_transaction.max);
  }

  /** Writes the chunk's lines, drawing from `random`; the caller has checked that the snapshots are not empty. */
  async writeChunk(chunk: TransactionChunk, random: Random): Promise<ReferenceCheck> {
    const { customers, products, vocabulary: v, calendar, items, transactions, signal } = this.options;
    const r = random;
    const { min: qMin, max: qMax } = this.options.settings.quantity;
    let n = chunk.firstTransaction;
    let item = chunk.firstItem;
    let missingCustomers = 0;
    let missingProducts = 0;
    for (const part of chunk.parts) {
      const date = isoDateOf(part.day);
      // The part's times are the sorted order statistics of its uniform draws over its share of
      // the day (the whole day unless the day was cut), generated in ascending order without
      // storing them (each next minimum of the remaining draws), so ids follow the clock.
      const start = part.from / part.dayCount;
      const end = part.to / part.dayCount;
      let untilEndOfPart = 1;
      for (let k = part.to - part.from; k > 0; k--) {
        untilEndOfPart *= Math.pow(r.unit(), 1 / k);
        const dayShare = Math.min(end, start + (1 - untilEndOfPart) * (end - start));
        const second = Math.min(SECONDS_PER_DAY - 1, Math.floor(dayShare * SECONDS_PER_DAY));
        const transactionId = formatId('TXN', n + 1, ID_WIDTH.transaction);
        const customer = customers.present[r.below(customers.presentCount)]!;
        if (customers.isPresent[customer] !== 1) missingCustomers++;
        const payment = r.pick(this.payments);
        const address = `"${r.between(1, 9999)} ${r.pick(v.streets)}, ${v.places[customers.place[customer]!]!.address} ${String(r.below(100_000)).padStart(5, '0')}"`;
        const itemCount = calendar.itemCount(n++);
        let totalCents = 0;
        let itemsFull = false;
        for (let i = 0; i < itemCount; i++) {
          let product = products.present[r.below(products.presentCount)]!;
          for (let tries = 1; tries < DISTINCT_PRODUCT_TRIES && this.alreadyChosen(product, i); tries++) {
            product = products.present[r.below(products.presentCount)]!;
          }
          this.chosen[i] = product;
          if (products.isPresent[product] !== 1) missingProducts++;
          const quantity = r.between(qMin, qMax);
          const discount = r.below(this.discountHundredths.length);
          const lineTotal = lineTotalCents(
            quantity,
            products.priceCents[product]!,
            this.discountHundredths[discount]!,
          );
          totalCents += lineTotal;
          const itemId = formatId('ITEM', ++item, ID_WIDTH.item);
          itemsFull =
            items.add(
              `${itemId},${transactionId},${formatId('PROD', product + 1, products.idWidth)},${quantity},${formatCents(products.priceCents[product]!)},${this.discountText[discount]},${formatCents(lineTotal)}`,
            ) || itemsFull;
        }
        const transactionsFull = transactions.add(
          `${transactionId},${formatId('CUST', customer + 1, customers.idWidth)},${date},${timeOfDay(second)},${payment},${address},${formatCents(totalCents)}`,
        );
        if (itemsFull || transactionsFull) {
          signal?.throwIfAborted();
          if (itemsFull) await items.flush();
          if (transactionsFull) await transactions.flush();
        }
      }
    }
    return { transactionsToMissingCustomers: missingCustomers, itemsToMissingProducts: missingProducts };
  }

  private alreadyChosen(product: number, chosenCount: number): boolean {
    for (let i = 0; i < chosenCount; i++) if (this.chosen[i] === product) return true;
    return false;
  }
}
