import { SqlFileMigration } from './sql-migration.js';

export class DropFactSalesPaymentMethodIndex1764100011000 extends SqlFileMigration {
  readonly name = 'DropFactSalesPaymentMethodIndex1764100011000';
  protected readonly file = '0011-drop-fact-sales-payment-method-index.sql';
}
