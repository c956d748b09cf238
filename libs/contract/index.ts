export {
  EARLIEST_BUSINESS_DATE,
  LAST_BUSINESS_DATE,
  MAX_DAYS_AFTER_RUN_DATE,
  addDays,
  businessDate,
  latestBusinessDate,
} from './business-dates.js';
export { RAW_FOLDER, RAW_CSV_COLUMNS, rawFileName, type RawFile } from './raw-files.js';
