import { CitusLayoutMigration } from '@pipeline/kernel';

/**
 * The distribution layout of the warehouse over a Citus cluster (sql/0030-citus-layout.sql),
 * applied only where the `citus` extension exists in the database, and by every `migrate` once it
 * does (`CitusLayoutMigration`). Plain PostgreSQL and the embedded database keep their layout.
 */
export class CitusLayout1764100030000 extends CitusLayoutMigration {
  readonly name = 'CitusLayout1764100030000';
  protected readonly file = new URL('./sql/0030-citus-layout.sql', import.meta.url);
  protected readonly distributes = 'warehouse.fact_sales';
}
