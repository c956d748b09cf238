import { CitusLayoutMigration } from '@pipeline/kernel';

/**
 * The distribution layout of production's fact tables over a Citus cluster
 * (sql/0060-citus-layout.sql), applied only where the `citus` extension exists in the database,
 * and by every `migrate` once it does (`CitusLayoutMigration`). Plain PostgreSQL and the embedded
 * database keep their layout.
 */
export class ProductionCitusLayout1764100060000 extends CitusLayoutMigration {
  readonly name = 'ProductionCitusLayout1764100060000';
  protected readonly file = new URL('./sql/0060-citus-layout.sql', import.meta.url);
  protected readonly distributes = 'production.transactions';
}
