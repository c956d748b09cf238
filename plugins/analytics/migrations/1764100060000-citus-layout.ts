import { CitusLayoutMigration } from '@pipeline/kernel';

/**
 * The per-transaction summary distributed over a Citus cluster (sql/0060-citus-layout.sql),
 * applied only where the `citus` extension exists in the database, and by every `migrate` once it
 * does (`CitusLayoutMigration`). Plain PostgreSQL and the embedded database keep their layout.
 */
export class AnalyticsCitusLayout1764100060000 extends CitusLayoutMigration {
  readonly name = 'AnalyticsCitusLayout1764100060000';
  protected readonly file = new URL('./sql/0060-citus-layout.sql', import.meta.url);
  protected readonly distributes = 'analytics.transactions';
}
