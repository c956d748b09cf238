export type { Database, BulkLoader, CopyTarget } from './database.js';
export { copyColumns, assertTableName } from './database.js';
export { CsvRecordScanner, CsvChunker } from './csv-records.js';
export { PostgresDatabase, PostgresBulkLoader } from './postgres/postgres.database.js';
export { EmbeddedDatabase, EmbeddedDatabaseError } from './embedded/embedded.database.js';
export { DataDirLock, DataDirLockedError } from './embedded/data-dir-lock.js';
export { openDatabase } from './open-database.js';
export {
  LockId,
  LOCK_NAMESPACE,
  tryAdvisoryLock,
  releaseAdvisoryLock,
  withAdvisoryLock,
} from './advisory-lock.js';
export {
  migrate,
  migrationStatus,
  historyTable,
  MigrationError,
  KERNEL_SCHEMA_OWNER,
  type MigrationClass,
  type MigrationRunner,
  type MigrationStatus,
  type SchemaOwner,
} from './migrator.js';
export { citusPresent } from './citus.js';
