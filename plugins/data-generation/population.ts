import { isoDateOf } from './calendar.js';
import { csvField, formatCents, formatId, ID_WIDTH } from './csv-format.js';
import type { CategorySettings, DataGenerationSettings } from './data-generation.config.js';
import { hash32, Random, Stream, unitOf } from './random.js';
import type { Vocabulary } from './vocabulary.js';

/**
 * Customers and products: the base population (a pure function of seed and config, drawn row by
 * row from one stream per table) and its day-by-day evolution after the full data set's end date.
 *
 * Evolution is a per-member Markov chain whose every step is a hash of (seed, member, day), so the
 * state of any member on any day is recomputed from scratch in O(days) without storing anything
 * between runs: the same (seed, config, run date) always gives the same snapshot.
 */

const COUNTRY = 'USA';
const AGE_GROUPS: ReadonlyArray<readonly [string, number]> = [
  ['18-25', 18],
  ['26-35', 45],
  ['36-45', 69],
  ['46-55', 86],
  ['56+', 100],
];
/** Customers registered up to three years before the data set starts. */
const REGISTRATION_WINDOW_DAYS = 3 * 365;
const SUPPLIERS = 50;
const COST_PERMILLE = { min: 400, max: 800 } as const;
const MAX_STOCK = 1_000;
/** Of the attribute changes of a product, this share (out of 10) are price changes; the rest change category. */
const PRICE_CHANGES_OUT_OF_TEN = 7;

/** What happened to a member on the last simulated day (the run date). */
export type MemberEvent = 'changed' | 'disappeared' | 'returned' | null;

export interface EvolutionShares {
  readonly change: number;
  readonly disappear: number;
  readonly return: number;
}

export interface CustomerState {
  present: boolean;
  place: number;
  event: MemberEvent;
}

export interface ProductState {
  present: boolean;
  category: number;
  subCategory: number;
  priceCents: number;
  event: MemberEvent;
}

/** Draws the base customers in order; `line()` gives the CSV row for a customer's current place. */
export class CustomerFactory {
  private readonly random: Random;
  private readonly registrationDates: string[];
  readonly width: number;
  private prefix = '';
  private suffix = '';
  /** The current customer's base place (index into the vocabulary's places). */
  place = 0;
  readonly places: number;

  constructor(
    private readonly settings: DataGenerationSettings,
    private readonly vocabulary: Vocabulary,
    startDay: number,
  ) {
    this.random = new Random(settings.seed, Stream.customers);
    const firstDay = startDay - REGISTRATION_WINDOW_DAYS;
    this.registrationDates = Array.from({ length: REGISTRATION_WINDOW_DAYS + 1 }, (_, i) =>
      isoDateOf(firstDay + i),
    );
    this.width = Math.max(ID_WIDTH.customer, String(settings.customers).length);
    this.places = vocabulary.places.length;
  }

  /** Draws customer `index` (0-based; must be called for 0, 1, 2, ... in order). */
  next(index: number): void {
    const r = this.random;
    const v = this.vocabulary;
    const number = index + 1;
    const first = r.pick(v.firstNames);
    const last = r.pick(v.lastNames);
    const domain = r.pick(v.emailDomains);
    const phone = `+1-${r.between(201, 989)}-${r.between(200, 999)}-${String(r.below(10_000)).padStart(4, '0')}`;
    const registered = r.pick(this.registrationDates);
    this.place = r.below(v.places.length);
    const ageRoll = r.below(100);
    const ageGroup = AGE_GROUPS.find(([, upTo]) => ageRoll < upTo)![0];
    // The customer number in the address makes every email unique by construction (name slugs
    // hold letters only, so the digits cannot run into the name of another customer).
    const email = `${first.slug}.${last.slug}${number}@${domain}`;
    this.prefix = `${formatId('CUST', number, this.width)},${first.csv},${last.csv},${email},${phone},${registered},`;
    this.suffix = `,${COUNTRY},${ageGroup}`;
  }

  line(place: number): string {
    return this.prefix + this.vocabulary.places[place]!.csv + this.suffix;
  }
}

/**
 * One member's chain over `days` days. Each day a present member disappears (disappear share) or
 * else changes (change share; `change` applies it and says whether there was anything to change);
 * an absent member comes back (return share). Returns the end state and the last day's event.
 */
function evolveMember(
  seed: number,
  stream: number,
  index: number,
  days: number,
  shares: EvolutionShares,
  change: (day: number) => boolean,
): { present: boolean; event: MemberEvent } {
  let present = true;
  let event: MemberEvent = null;
  for (let day = 1; day <= days; day++) {
    const roll = unitOf(seed, stream, index, day);
    event = null;
    if (present) {
      if (roll < shares.disappear) {
        present = false;
        event = 'disappeared';
      } else if (roll < shares.disappear + shares.change && change(day)) {
        event = 'changed';
      }
    } else if (roll < shares.return) {
      present = true;
      event = 'returned';
    }
  }
  return { present, event };
}

/** A customer on day `days` after the full range: a change is a move to another place. */
export function evolveCustomer(
  seed: number,
  index: number,
  basePlace: number,
  days: number,
  places: number,
  shares: EvolutionShares,
): CustomerState {
  let place = basePlace;
  const { present, event } = evolveMember(seed, Stream.customerEvents, index, days, shares, (day) => {
    if (places < 2) return false;
    place = (place + 1 + (hash32(seed, Stream.eventDetails, index, day) % (places - 1))) % places;
    return true;
  });
  return { present, place, event };
}

interface Category {
  readonly name: string;
  readonly csv: string;
  readonly subCategories: readonly string[];
  readonly minCents: number;
  readonly maxCents: number;
}

export function categoriesOf(settings: DataGenerationSettings): Category[] {
  return Object.entries(settings.categories).map(([name, c]: [string, CategorySettings]) => ({
    name,
    csv: csvField(name),
    subCategories: c.sub_categories.map(csvField),
    minCents: Math.round(c.min_price * 100),
    maxCents: Math.round(c.max_price * 100),
  }));
}

/** Draws the base products in order; `line()` gives the CSV row for a product's current state. */
export class ProductFactory {
  private readonly random: Random;
  readonly width: number;
  private idAndName = '';
  private tail = '';
  private costPermille = 0;
  readonly base: ProductState = { present: true, category: 0, subCategory: 0, priceCents: 0, event: null };

  constructor(
    private readonly settings: DataGenerationSettings,
    private readonly vocabulary: Vocabulary,
    readonly categories: readonly Category[],
  ) {
    this.random = new Random(settings.seed, Stream.products);
    this.width = Math.max(ID_WIDTH.product, String(settings.products).length);
  }

  /** Draws product `index` (0-based; must be called for 0, 1, 2, ... in order). */
  next(index: number): void {
    const r = this.random;
    const v = this.vocabulary;
    const number = index + 1;
    const category = r.below(this.categories.length);
    const { subCategories, minCents, maxCents } = this.categories[category]!;
    this.base.category = category;
    this.base.subCategory = r.below(subCategories.length);
    const brand = r.pick(v.brands);
    const adjective = r.pick(v.adjectives);
    const noun = r.pick(v.nouns);
    const series = String.fromCharCode(65 + r.below(26), 65 + r.below(26));
    this.base.priceCents = r.between(minCents, maxCents);
    this.costPermille = r.between(COST_PERMILLE.min, COST_PERMILLE.max);
    const stock = r.below(MAX_STOCK + 1);
    const supplier = formatId('SUP', r.between(1, SUPPLIERS), 3);
    // The product number in the model code makes names unique by construction.
    const name = `${brand} ${adjective} ${noun} ${series}-${number}`;
    this.idAndName = `${formatId('PROD', number, this.width)},${csvField(name)},`;
    this.tail = `,${csvField(brand)},${stock},${supplier}`;
  }

  /** Cost keeps the product's margin ratio: floor(price * permille / 1000) < price for any price >= 1 cent. */
  costCents(priceCents: number): number {
    return Math.floor((priceCents * this.costPermille) / 1000);
  }

  line(state: ProductState): string {
    const category = this.categories[state.category]!;
    return `${this.idAndName}${category.csv},${category.subCategories[state.subCategory]},${formatCents(state.priceCents)},${formatCents(this.costCents(state.priceCents))}${this.tail}`;
  }
}

/** A product on day `days` after the full range: a change is a new price, or a new category and price. */
export function evolveProduct(
  seed: number,
  index: number,
  base: ProductState,
  days: number,
  categories: readonly Category[],
  shares: EvolutionShares,
): ProductState {
  let { category, subCategory, priceCents } = base;
  const { present, event } = evolveMember(seed, Stream.productEvents, index, days, shares, (day) => {
    const detail = hash32(seed, Stream.eventDetails, index, day);
    const detail2 = hash32(detail, day);
    if (detail % 10 >= PRICE_CHANGES_OUT_OF_TEN && categories.length > 1) {
      category = (category + 1 + (detail2 % (categories.length - 1))) % categories.length;
      subCategory = hash32(detail2, 1) % categories[category]!.subCategories.length;
    }
    priceCents = repriced(priceCents, categories[category]!, hash32(detail2, 2));
    return true;
  });
  return { present, category, subCategory, priceCents, event };
}

/** A new price in the category's range, never equal to the old one when the range allows. */
function repriced(old: number, category: Category, roll: number): number {
  const span = category.maxCents - category.minCents + 1;
  const price = category.minCents + (roll % span);
  if (price !== old || span === 1) return price;
  return price < category.maxCents ? price + 1 : price - 1;
}
