import { SqlFileMigration } from './sql-migration.js';

export class FactSalesDiscountAddsUp1764100015000 extends SqlFileMigration {
  readonly name = 'FactSalesDiscountAddsUp1764100015000';
  protected readonly file = '0015-fact-sales-discount-adds-up.sql';
}
