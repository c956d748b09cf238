/**
 * The outer limits of a business date (a sale's, a registration's) anywhere past the quality gate.
 *
 * The warehouse's first dimension versions start on 1900-01-01, so a sale dated earlier has no
 * version to point at; `dim_date` holds one row per calendar day, so a date far beyond the run
 * date makes it build millions of rows; an infinite date breaks date arithmetic ("cannot subtract
 * infinite dates"). production-etl therefore rejects any date outside these limits, whatever the
 * gate let through, and the warehouse sets aside a sale written into production past it; the gate's configurable plausible
 * window (`quality.plausible_dates`) must lie inside them.
 */
export const EARLIEST_BUSINESS_DATE = '1900-01-01';

/** How far after the run date a business date may lie at most (a year and a day). */
export const MAX_DAYS_AFTER_RUN_DATE = 366;

/**
 * The last day any dimension version can cover: an open version ends on 9999-12-31, exclusive.
 */
export const LAST_BUSINESS_DATE = '9999-12-30';

/** The calendar date (YYYY-MM-DD) of an instant in a time zone: the business date of a run. */
export function businessDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/**
 * `YYYY-MM-DD` plus whole days, in UTC (no time zone can shift it), never past
 * `LAST_BUSINESS_DATE`.
 */
export function addDays(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.getTime() > Date.parse(`${LAST_BUSINESS_DATE}T00:00:00Z`)
    ? LAST_BUSINESS_DATE
    : at.toISOString().slice(0, 10);
}

/** The latest business date a run for `runDate` accepts. */
export function latestBusinessDate(runDate: string): string {
  return addDays(runDate, MAX_DAYS_AFTER_RUN_DATE);
}
