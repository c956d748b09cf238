import { SqlFileMigration } from './sql-migration.js';

export class ProductPerformanceSums1764100013000 extends SqlFileMigration {
  readonly name = 'ProductPerformanceSums1764100013000';
  protected readonly file = '0013-product-performance-sums.sql';
}
