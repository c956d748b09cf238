import { readFileSync } from 'node:fs';
import { citusPresent, type MigrationInterface, type QueryRunner } from '@pipeline/kernel';

/** Runs a query: a migration's query runner, or a client inside the migrator's transaction. */
interface Runner {
  query(sql: string): Promise<unknown>;
}

const rowsOf = (result: unknown): Array<Record<string, unknown>> =>
  (Array.isArray(result) ? result : (result as { rows: Array<Record<string, unknown>> }).rows) ?? [];

/**
 * The distribution layout of the warehouse over a Citus cluster (sql/0030-citus-layout.sql),
 * applied only where the `citus` extension exists in the database. Elsewhere this migration
 * changes nothing: plain PostgreSQL and the embedded database keep their layout.
 *
 * A database that gets the extension later (restored into a cluster's coordinator, say) has this
 * migration recorded already; `recheck` is run by every `migrate` after the warehouse's
 * migrations (`MigrationClass.recheck`), so the layout follows the extension.
 */
export class CitusLayout1764100030000 implements MigrationInterface {
  readonly name = 'CitusLayout1764100030000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await CitusLayout1764100030000.recheck(queryRunner);
  }

  async down(): Promise<void> {
    throw new Error(`${this.name} cannot be undone: restore a backup instead (docs/operations.md)`);
  }

  /** Applies the layout when Citus is present and fact_sales is not distributed yet; returns whether it did. */
  static async recheck(runner: Runner): Promise<boolean> {
    if (!(await citusPresent(runner as Parameters<typeof citusPresent>[0]))) return false;
    const laidOut = rowsOf(
      await runner.query(
        `SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'warehouse.fact_sales'::regclass) AS done`,
      ),
    );
    if (laidOut[0]?.done === true) return false;
    const sql = readFileSync(new URL('./sql/0030-citus-layout.sql', import.meta.url), 'utf8');
    // One statement at a time: Citus propagates DDL to the shards with the text it was sent in.
    for (const statement of sql.split(/;[ \t]*\n/)) {
      if (statement.replace(/--[^\n]*/g, '').trim() !== '') await runner.query(statement);
    }
    return true;
  }
}
