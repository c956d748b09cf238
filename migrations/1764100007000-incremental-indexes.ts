import { SqlFileMigration } from './sql-migration.js';

export class IncrementalIndexes1764100007000 extends SqlFileMigration {
  readonly name = 'IncrementalIndexes1764100007000';
  protected readonly file = '0007-incremental-indexes.sql';
}
