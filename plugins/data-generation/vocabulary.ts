import { csvField } from './csv-format.js';

/** A word as it goes into a CSV line (quoted if needed) and into an email address. */
export interface Word {
  readonly csv: string;
  readonly slug: string;
}

export interface Place {
  readonly city: string;
  readonly state: string;
  /** `city,state` as CSV fields, ready to concatenate. */
  readonly csv: string;
  /** `city, state` for a shipping address, with quotes already doubled. */
  readonly address: string;
}

/**
 * Small pools of realistic words, drawn once per seed. Faker is slow per call (tens of µs) and its
 * sequence changes between versions; rows pick from these pools with the generator's own PRNG,
 * so a run costs a few thousand Faker calls whatever the number of rows.
 */
export interface Vocabulary {
  readonly firstNames: readonly Word[];
  readonly lastNames: readonly Word[];
  readonly places: readonly Place[];
  /** Street names with quotes already doubled (they only ever appear inside a quoted address). */
  readonly streets: readonly string[];
  readonly emailDomains: readonly string[];
  readonly brands: readonly string[];
  readonly adjectives: readonly string[];
  readonly nouns: readonly string[];
}

const POOL = {
  firstNames: 400,
  lastNames: 400,
  places: 300,
  streets: 400,
  emailDomains: 24,
  brands: 80,
  adjectives: 60,
  nouns: 60,
} as const;

const slugOf = (text: string) => text.toLowerCase().replace(/[^a-z]/g, '') || 'x';
const word = (text: string): Word => ({ csv: csvField(text), slug: slugOf(text) });
const quoted = (text: string) => text.replaceAll('"', '""');
const pool = <T>(size: number, make: () => T): T[] => Array.from({ length: size }, make);

export async function buildVocabulary(seed: number, referenceDate: Date): Promise<Vocabulary> {
  // Loaded on first use, and only the English locale: this entry point's `faker` is built exactly
  // as `new Faker({ locale: [en, base] })` (same words), while the package's main entry loads
  // every locale, about 25 MB more resident memory and 0.25 s more. The shared instance is seeded
  // and drained synchronously below, so two generations cannot interleave their draws.
  const { faker } = await import('@faker-js/faker/locale/en');
  faker.seed(seed);
  faker.setDefaultRefDate(referenceDate);
  return {
    firstNames: pool(POOL.firstNames, () => word(faker.person.firstName())),
    lastNames: pool(POOL.lastNames, () => word(faker.person.lastName())),
    places: pool(POOL.places, () => {
      const city = faker.location.city();
      const state = faker.location.state();
      return {
        city,
        state,
        csv: `${csvField(city)},${csvField(state)}`,
        address: quoted(`${city}, ${state}`),
      };
    }),
    streets: pool(POOL.streets, () => quoted(faker.location.street())),
    emailDomains: pool(POOL.emailDomains, () => faker.internet.domainName().toLowerCase()),
    // The first word of a company name ("Schmidt, Krajcik and Kuhn" -> "Schmidt") reads as a brand.
    brands: pool(
      POOL.brands,
      () =>
        faker.company
          .name()
          .split(/[\s,-]+/)[0]!
          .replace(/[^A-Za-z']/g, '') || 'Generic',
    ),
    adjectives: pool(POOL.adjectives, () => faker.commerce.productAdjective()),
    nouns: pool(POOL.nouns, () => faker.commerce.product()),
  };
}
