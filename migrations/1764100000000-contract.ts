import { SqlFileMigration } from './sql-migration.js';

export class Contract1764100000000 extends SqlFileMigration {
  readonly name = 'Contract1764100000000';
  protected readonly file = '0001-contract.sql';
}
