import { SqlFileMigration } from './sql-migration.js';

export class WarehouseDiscountPercentage1764100005000 extends SqlFileMigration {
  readonly name = 'WarehouseDiscountPercentage1764100005000';
  protected readonly file = '0005-warehouse-discount-percentage.sql';
}
