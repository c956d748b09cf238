import { SqlFileMigration } from '@pipeline/kernel';

/** The `production` schema: cleansed tables, their history, business dates. */
export class ProductionSchema1764100000000 extends SqlFileMigration {
  readonly name = 'ProductionSchema1764100000000';
  protected readonly file = new URL('./sql/0001-production-schema.sql', import.meta.url);
  override readonly replaces = [
    'Contract1764100000000',
    'WarehouseDiscountPercentage1764100005000',
    'IncrementalIndexes1764100007000',
    'OrderIndependentHistory1764100020000',
    'CheapChangeIndexes1764100021000',
  ];
}
