import { z } from 'zod';
import { PermanentError, addDays, stageOutput } from '@pipeline/kernel';

/**
 * What ingestion hands on about the files it staged: each staging table's file, relative to the
 * data folder (`raw/2025-01-05/transactions.csv`), so that a refusal names the file.
 */
export const stagedInputOutput = stageOutput(
  'staged-input',
  z.object({ files: z.record(z.string(), z.string()) }),
);

/** The dates of the staged sales (`sql/input-dates.sql`), against the run's business date. */
export interface InputDates {
  /** Staged transactions with a date. */
  readonly sales: number;
  readonly earliest: string | null;
  readonly latest: string | null;
  /** The newest transaction date on or before the run date. */
  readonly newest: string | null;
  /** The latest business date production holds before the run's. */
  readonly previous: string | null;
}

/**
 * The files staged for a run are another date's: refused before any check runs, so nothing is
 * quarantined or loaded. Permanent: the same files give the same answer.
 */
export class InputDatesError extends PermanentError {
  override name = 'InputDatesError';
  constructor(
    readonly file: string,
    readonly runDate: string,
    readonly dates: InputDates,
    why: string,
  ) {
    super(
      `${file} holds sales dated ${dates.earliest}..${dates.latest}, ${why}: ` +
        `these are the files of ${dates.newest === null ? 'a later' : 'an earlier'} date, not of ${runDate} ` +
        `(each date's files go in raw/<date>/; see the quality-checks README, "Input dates")`,
    );
  }
}

/**
 * Whether the staged sales fit the run's business date (README, "Input dates"): a date's files
 * hold that date's sales, so the newest sale on or before the run date is on it, or at most
 * `lateDays` days before it (a source that delivers late); older sales beside it are late lines
 * or a full load's history, and later ones are left to `transactions_date_not_future`. A date
 * with no business date loaded before it (the first load, a full load whose history may end
 * before its run date) has no lower bound. Returns the refusal, or null when the files fit.
 */
export function judgeInputDates(
  dates: InputDates,
  runDate: string,
  lateDays: number,
  file: string,
): InputDatesError | null {
  if (dates.sales === 0) return null;
  if (dates.newest === null)
    return new InputDatesError(file, runDate, dates, `none on or before the run date ${runDate}`);
  if (dates.previous === null) return null;
  const first = addDays(runDate, -lateDays);
  if (dates.newest < first) {
    const window = lateDays === 0 ? `on the run date ${runDate}` : `from ${first} to the run date ${runDate}`;
    return new InputDatesError(
      file,
      runDate,
      dates,
      `none ${window} (quality.input_dates.late_days: ${lateDays})`,
    );
  }
  return null;
}
