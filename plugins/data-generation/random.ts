/**
 * The generator's own randomness. Faker is only used to fill small word pools; every choice per
 * row comes from here, because a small integer PRNG is fast and its sequence is fixed by this
 * file alone (no dependency upgrade can change the data).
 */

const TWO_POW_32 = 4_294_967_296;

/** Avalanche of a 32-bit integer (the MurmurHash3 finaliser). */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A well-mixed uint32 of up to four uint32 parts. Used where a value must be a pure function of
 * its coordinates (seed, purpose, member, day), so that it can be recomputed without any state.
 */
export function hash32(a: number, b: number, c = 0, d = 0): number {
  let h = fmix32((a ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ Math.imul(b >>> 0, 0x85ebca77)) >>> 0);
  h = fmix32((h ^ Math.imul(c >>> 0, 0xc2b2ae3d)) >>> 0);
  return fmix32((h ^ Math.imul(d >>> 0, 0x27d4eb2f)) >>> 0);
}

/** A uniform number in [0, 1) from the coordinates, as `hash32` does. */
export function unitOf(a: number, b: number, c = 0, d = 0): number {
  return hash32(a, b, c, d) / TWO_POW_32;
}

/** Purposes that keep the independent streams of one seed apart. */
export const Stream = {
  customers: 1,
  products: 2,
  transactions: 3,
  itemCounts: 4,
  dayWeights: 5,
  dailyTransactions: 6,
  customerEvents: 7,
  productEvents: 8,
  eventDetails: 9,
  /** Transaction chunks after the first of a daily increment (keyed by day and chunk). */
  dailyChunks: 10,
} as const;

/** sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG): 128-bit state, passes PractRand. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: number, sub = 0) {
    this.a = hash32(seed, stream, sub, 1);
    this.b = hash32(seed, stream, sub, 2);
    this.c = hash32(seed, stream, sub, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in (0, 1): never exactly 0, so it is safe under logarithms and roots. */
  unit(): number {
    return (this.next() + 0.5) / TWO_POW_32;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / TWO_POW_32) * n);
  }

  /** A uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  pick<T>(values: readonly T[]): T {
    return values[this.below(values.length)]!;
  }
}
