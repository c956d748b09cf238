import { SqlFileMigration } from '@pipeline/kernel';

/** The `warehouse` schema: the star, its SCD2 dimensions and aggregates. */
export class WarehouseSchema1764100000000 extends SqlFileMigration {
  readonly name = 'WarehouseSchema1764100000000';
  protected readonly file = new URL('./sql/0001-warehouse-schema.sql', import.meta.url);
  override readonly replaces = [
    'Contract1764100000000',
    'WarehouseDiscountPercentage1764100005000',
    'IncrementalIndexes1764100007000',
    'CustomerSegmentThresholds1764100009000',
    'DropFactSalesPaymentMethodIndex1764100011000',
    'AnalyticsSummaries1764100012000',
    'ProductPerformanceSums1764100013000',
    'OrderIndependentHistory1764100020000',
    'CheapChangeIndexes1764100021000',
  ];
}
