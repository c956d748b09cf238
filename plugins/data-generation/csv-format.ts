/** Formatting of CSV fields exactly as the warehouse contract asks (RFC 4180, dates, money). */

/** A text field, quoted only when RFC 4180 requires it (comma, quote, CR or LF inside). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** An id as the original generator wrote them: `CUST0001`, growing wider only when needed. */
export function formatId(prefix: string, number: number, width: number): string {
  const digits = String(number);
  return digits.length >= width ? prefix + digits : prefix + '0'.repeat(width - digits.length) + digits;
}

export const ID_WIDTH = { customer: 4, product: 4, transaction: 5, item: 5 } as const;

/** Integer cents as a decimal with two places: 12345 -> "123.45". */
export function formatCents(cents: number): string {
  const whole = Math.floor(cents / 100);
  const fraction = cents - whole * 100;
  return fraction < 10 ? `${whole}.0${fraction}` : `${whole}.${fraction}`;
}

/** A percentage with at most two decimals as PostgreSQL prints numeric input back: 5 -> "5", 12.5 -> "12.5". */
export function formatPercent(hundredths: number): string {
  const whole = Math.floor(hundredths / 100);
  const fraction = hundredths - whole * 100;
  if (fraction === 0) return String(whole);
  return fraction % 10 === 0 ? `${whole}.${fraction / 10}` : `${whole}.${String(fraction).padStart(2, '0')}`;
}

/**
 * `round(quantity * unit_price * (1 - discount/100), 2)` in cents, exactly as PostgreSQL's
 * NUMERIC computes it: the exact rational value quantity * priceCents * (10000 - d) / 10000
 * (d = discount in hundredths of a percent), rounded half away from zero. Inputs are bounded by
 * the config schema so the numerator stays an exact integer in a double (< 2^53).
 */
export function lineTotalCents(quantity: number, unitPriceCents: number, discountHundredths: number): number {
  const numerator = quantity * unitPriceCents * (10_000 - discountHundredths);
  // `%` on integral doubles is exact; a division could round up across an integer boundary.
  const remainder = numerator % 10_000;
  const whole = (numerator - remainder) / 10_000;
  return remainder * 2 >= 10_000 ? whole + 1 : whole;
}
