import { readFileSync } from 'node:fs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { citusPresent, type MigrationRunner } from '../database/index.js';

const rowsOf = (result: unknown): Array<Record<string, unknown>> =>
  (Array.isArray(result) ? result : (result as { rows: Array<Record<string, unknown>> }).rows) ?? [];

/**
 * A plugin's tables laid out over a Citus cluster (docs/operations.md, "Beyond one machine"): the
 * statements of a `.sql` file beside it, applied only where the `citus` extension exists in the
 * database. Elsewhere it changes nothing: plain PostgreSQL and the embedded database keep their
 * layout.
 *
 * A database that gets the extension later (restored into a cluster's coordinator, say) has the
 * migration recorded already; `recheck` is run by every `migrate` after its owner's migrations
 * (`MigrationClass.recheck`), so the layout follows the extension. The layout is in place once
 * the table it names in `distributes` is in Citus' metadata.
 *
 * @example
 * ```ts
 * export class LoyaltyCitusLayout1766000001000 extends CitusLayoutMigration {
 *   readonly name = 'LoyaltyCitusLayout1766000001000';
 *   protected readonly file = new URL('./sql/0002-citus-layout.sql', import.meta.url);
 *   protected readonly distributes = 'loyalty.points';
 * }
 * ```
 */
export abstract class CitusLayoutMigration implements MigrationInterface {
  abstract readonly name: string;
  protected abstract readonly file: URL;
  /** A table the layout distributes: once Citus knows it, the layout is in place. */
  protected abstract readonly distributes: string;

  /** Applies the layout where Citus is present and it is not in place yet; says whether it did. */
  static recheck(this: new () => CitusLayoutMigration, runner: MigrationRunner): Promise<boolean> {
    return new this().apply(runner);
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.apply(queryRunner);
  }

  async down(): Promise<void> {
    throw new Error(`${this.name} cannot be undone: restore a backup instead (docs/operations.md)`);
  }

  private async apply(runner: MigrationRunner): Promise<boolean> {
    if (!(await citusPresent(runner as Parameters<typeof citusPresent>[0]))) return false;
    const laidOut = rowsOf(
      await runner.query(
        `SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '${this.distributes}'::regclass) AS done`,
      ),
    );
    if (laidOut[0]?.done === true) return false;
    // One statement at a time: Citus propagates DDL to the shards with the text it was sent in, and
    // takes no list of constraints or indexes in one statement.
    for (const statement of readFileSync(this.file, 'utf8').split(/;[ \t]*\n/)) {
      if (statement.replace(/--[^\n]*/g, '').trim() !== '') await runner.query(statement);
    }
    return true;
  }
}
