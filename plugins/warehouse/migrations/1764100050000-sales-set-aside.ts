import { SqlFileMigration } from '@pipeline/kernel';

/** `warehouse.sales_set_aside`: the sales the warehouse leaves out until their date is corrected. */
export class SalesSetAside1764100050000 extends SqlFileMigration {
  readonly name = 'SalesSetAside1764100050000';
  protected readonly file = new URL('./sql/0050-sales-set-aside.sql', import.meta.url);
}
