import { SqlFileMigration } from './sql-migration.js';

export class OrderIndependentHistory1764100020000 extends SqlFileMigration {
  readonly name = 'OrderIndependentHistory1764100020000';
  protected readonly file = '0020-order-independent-history.sql';
}
