export { RAW_CSV_COLUMNS, rawFileName, type RawFile } from './raw-files.js';
