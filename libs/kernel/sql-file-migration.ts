import { readFileSync } from 'node:fs';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A migration whose statements live in a `.sql` file beside it, so a data engineer can read and
 * run them in psql. Migrations only move forward: the schemas hold data.
 *
 * @example
 * ```ts
 * export class LoyaltyPoints1766000000000 extends SqlFileMigration {
 *   readonly name = 'LoyaltyPoints1766000000000';
 *   protected readonly file = new URL('./sql/0001-loyalty-points.sql', import.meta.url);
 * }
 * ```
 */
export abstract class SqlFileMigration implements MigrationInterface {
  abstract readonly name: string;
  protected abstract readonly file: URL;
  /** See `MigrationClass.replaces`: only for migrations that squash release 0.1.0's history. */
  readonly replaces?: readonly string[];

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(readFileSync(this.file, 'utf8'));
  }

  async down(): Promise<void> {
    throw new Error(`${this.name} cannot be undone: restore a backup instead (docs/operations.md)`);
  }
}
