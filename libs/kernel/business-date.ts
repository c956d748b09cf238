import type { AppConfig } from '../config/index.js';
import { addDays, businessDate } from '../contract/business-dates.js';

export { businessDate };

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

/** Every date from `from` to `to` inclusive. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let d = new Date(`${from}T00:00:00Z`);
    d <= new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

/** The business dates a run may have (`pipeline.run_date_window`). */
export interface RunDateWindow {
  readonly earliest: string;
  readonly max_days_ahead: number;
}

/**
 * Why `date` (YYYY-MM-DD) cannot be a run's business date, or null. A run dated far ahead opens
 * dimension versions there, and every real date after it would then be applied as a late
 * correction in place, losing history; one dated before the data can hold nothing real.
 */
export function runDateRefusal(date: string, window: RunDateWindow, today: string): string | null {
  if (!isIsoDate(date)) return `run date "${date}" is not a date (YYYY-MM-DD)`;
  const latest = addDays(today, window.max_days_ahead);
  if (date < window.earliest || date > latest) {
    return `run date ${date} is outside the accepted window ${window.earliest} .. ${latest} (today ${today} + ${window.max_days_ahead} days; pipeline.run_date_window)`;
  }
  return null;
}

/** `runDateRefusal` with the configured window and today in the scheduler's time zone. */
export function refusedRunDate(
  date: string,
  config: Pick<AppConfig, 'pipeline' | 'scheduler'>,
  now = new Date(),
): string | null {
  return runDateRefusal(date, config.pipeline.run_date_window, businessDate(now, config.scheduler.timezone));
}
