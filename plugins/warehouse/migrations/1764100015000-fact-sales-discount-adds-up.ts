import { SqlFileMigration } from '@pipeline/kernel';

/**
 * Release 0.1.0's migration 0015, kept under its name: it recomputes facts loaded before the
 * discount definition changed (on a new database there are none, and it changes nothing).
 */
export class FactSalesDiscountAddsUp1764100015000 extends SqlFileMigration {
  readonly name = 'FactSalesDiscountAddsUp1764100015000';
  protected readonly file = new URL('./sql/0015-fact-sales-discount-adds-up.sql', import.meta.url);
}
