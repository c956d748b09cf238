/** Dates as whole days since 1970-01-01 (UTC): exact integer arithmetic, no time zones, no clock. */
const MS_PER_DAY = 86_400_000;

/** The day number of a `YYYY-MM-DD` date, or null when it is not a calendar date. */
export function dayNumberOf(iso: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return null;
  return ms / MS_PER_DAY;
}

export function isoDateOf(dayNumber: number): string {
  return new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday .. 6 = Saturday. */
export function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

/** 0 = January .. 11 = December. */
export function monthOf(dayNumber: number): number {
  return new Date(dayNumber * MS_PER_DAY).getUTCMonth();
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** `HH:MM:SS` of a second of the day (0..86399). */
export function timeOfDay(second: number): string {
  const hours = Math.floor(second / 3600);
  const minutes = Math.floor(second / 60) % 60;
  return `${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[second % 60]}`;
}
