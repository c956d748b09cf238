import { SqlFileMigration } from './sql-migration.js';

export class CheapChangeIndexes1764100021000 extends SqlFileMigration {
  readonly name = 'CheapChangeIndexes1764100021000';
  protected readonly file = '0021-cheap-change-indexes.sql';
}
