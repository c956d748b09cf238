import { Contract1764100000000 } from './1764100000000-contract.js';
import { WarehouseDiscountPercentage1764100005000 } from './1764100005000-warehouse-discount-percentage.js';
import { IncrementalIndexes1764100007000 } from './1764100007000-incremental-indexes.js';
import { CustomerSegmentThresholds1764100009000 } from './1764100009000-customer-segment-thresholds.js';
import { DropFactSalesPaymentMethodIndex1764100011000 } from './1764100011000-drop-fact-sales-payment-method-index.js';
import { AnalyticsSummaries1764100012000 } from './1764100012000-analytics-summaries.js';
import { ProductPerformanceSums1764100013000 } from './1764100013000-product-performance-sums.js';
import { StagingExactNumbers1764100014000 } from './1764100014000-staging-exact-numbers.js';
import { FactSalesDiscountAddsUp1764100015000 } from './1764100015000-fact-sales-discount-adds-up.js';
import { OrderIndependentHistory1764100020000 } from './1764100020000-order-independent-history.js';
import { CheapChangeIndexes1764100021000 } from './1764100021000-cheap-change-indexes.js';
import { OperatorControls1764100040000 } from './1764100040000-operator-controls.js';

/** Every migration, oldest first. A new one is a file beside this one and a line here. */
export const migrations = [
  Contract1764100000000,
  WarehouseDiscountPercentage1764100005000,
  IncrementalIndexes1764100007000,
  CustomerSegmentThresholds1764100009000,
  DropFactSalesPaymentMethodIndex1764100011000,
  AnalyticsSummaries1764100012000,
  ProductPerformanceSums1764100013000,
  StagingExactNumbers1764100014000,
  FactSalesDiscountAddsUp1764100015000,
  OrderIndependentHistory1764100020000,
  CheapChangeIndexes1764100021000,
  OperatorControls1764100040000,
];
