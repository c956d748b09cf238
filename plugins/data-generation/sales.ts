import { isoDateOf, monthOf, timeOfDay, weekdayOf } from './calendar.js';
import type { CsvFileWriter } from './csv-file-writer.js';
import { PermanentError } from '../../libs/kernel/index.js';
import { csvField, formatCents, formatId, formatPercent, ID_WIDTH, lineTotalCents } from './csv-format.js';
import type { DataGenerationSettings } from './data-generation.config.js';
import { hash32, Random, Stream } from './random.js';
import type { Vocabulary } from './vocabulary.js';

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

export interface TransactionWriterOptions {
  readonly settings: DataGenerationSettings;
  readonly vocabulary: Vocabulary;
  readonly calendar: SalesCalendar;
  readonly random: Random;
  readonly customers: CustomerSnapshot;
  readonly products: ProductSnapshot;
  readonly transactions: CsvFileWriter;
  readonly items: CsvFileWriter;
  readonly signal: AbortSignal;
  /** 0-based numbers of the first transaction and item to write. */
  readonly firstTransaction: number;
  readonly firstItem: number;
}

/** Writes transactions and their items, day by day, continuing the global id sequences. */
export class TransactionWriter {
  /** 0-based number of the next transaction and item (so also the count of those before). */
  nextTransaction: number;
  nextItem: number;
  private readonly payments: readonly string[];
  private readonly discountHundredths: readonly number[];
  private readonly discountText: readonly string[];
  private readonly chosen: Int32Array;
  private missingCustomers = 0;
  private missingProducts = 0;

  constructor(private readonly options: TransactionWriterOptions) {
    const { settings } = options;
    this.nextTransaction = options.firstTransaction;
    this.nextItem = options.firstItem;
    this.payments = settings.payment_methods.map(csvField);
    this.discountHundredths = settings.discounts.map((d) => Math.round(d * 100));
    this.discountText = this.discountHundredths.map(formatPercent);
    this.chosen = new Int32Array(settings.items_per_transaction.max);
  }

  get referenceCheck(): ReferenceCheck {
    return {
      transactionsToMissingCustomers: this.missingCustomers,
      itemsToMissingProducts: this.missingProducts,
    };
  }

  async writeDay(day: number, count: number): Promise<void> {
    if (count === 0) return;
    const {
      customers,
      products,
      random: r,
      vocabulary: v,
      calendar,
      items,
      transactions,
      signal,
    } = this.options;
    if (customers.presentCount === 0 || products.presentCount === 0) {
      throw new PermanentError(
        `data-generation: no customer or product is left in the snapshot of ${isoDateOf(day)} ` +
          `(check data_generation.daily.disappear_share and return_share), so its ${count} transactions cannot reference any`,
      );
    }
    const date = isoDateOf(day);
    const { min: qMin, max: qMax } = this.options.settings.quantity;
    // Times are the sorted order statistics of `count` uniform draws, generated in ascending order
    // without storing them (each next minimum of the remaining draws), so ids follow the clock.
    let untilEndOfDay = 1;
    for (let k = count; k > 0; k--) {
      untilEndOfDay *= Math.pow(r.unit(), 1 / k);
      const second = Math.min(SECONDS_PER_DAY - 1, Math.floor((1 - untilEndOfDay) * SECONDS_PER_DAY));
      const n = this.nextTransaction++;
      const transactionId = formatId('TXN', n + 1, ID_WIDTH.transaction);
      const customer = customers.present[r.below(customers.presentCount)]!;
      if (customers.isPresent[customer] !== 1) this.missingCustomers++;
      const payment = r.pick(this.payments);
      const address = `"${r.between(1, 9999)} ${r.pick(v.streets)}, ${v.places[customers.place[customer]!]!.address} ${String(r.below(100_000)).padStart(5, '0')}"`;
      const itemCount = calendar.itemCount(n);
      let totalCents = 0;
      let itemsFull = false;
      for (let i = 0; i < itemCount; i++) {
        let product = products.present[r.below(products.presentCount)]!;
        for (let tries = 1; tries < DISTINCT_PRODUCT_TRIES && this.alreadyChosen(product, i); tries++) {
          product = products.present[r.below(products.presentCount)]!;
        }
        this.chosen[i] = product;
        if (products.isPresent[product] !== 1) this.missingProducts++;
        const quantity = r.between(qMin, qMax);
        const discount = r.below(this.discountHundredths.length);
        const lineTotal = lineTotalCents(
          quantity,
          products.priceCents[product]!,
          this.discountHundredths[discount]!,
        );
        totalCents += lineTotal;
        const itemId = formatId('ITEM', ++this.nextItem, ID_WIDTH.item);
        itemsFull =
          items.add(
            `${itemId},${transactionId},${formatId('PROD', product + 1, products.idWidth)},${quantity},${formatCents(products.priceCents[product]!)},${this.discountText[discount]},${formatCents(lineTotal)}`,
          ) || itemsFull;
      }
      const transactionsFull = transactions.add(
        `${transactionId},${formatId('CUST', customer + 1, customers.idWidth)},${date},${timeOfDay(second)},${payment},${address},${formatCents(totalCents)}`,
      );
      if (itemsFull || transactionsFull) {
        signal.throwIfAborted();
        if (itemsFull) await items.flush();
        if (transactionsFull) await transactions.flush();
      }
    }
  }

  private alreadyChosen(product: number, chosenCount: number): boolean {
    for (let i = 0; i < chosenCount; i++) if (this.chosen[i] === product) return true;
    return false;
  }
}
