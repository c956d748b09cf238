import { readFileSync } from 'node:fs';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A migration whose statements live in a `.sql` file under `migrations/sql/`, so a data
 * engineer can read and run them in psql. Migrations only move forward: the schemas hold data.
 */
export abstract class SqlFileMigration implements MigrationInterface {
  abstract readonly name: string;
  protected abstract readonly file: string;

  async up(queryRunner: QueryRunner): Promise<void> {
    const sql = readFileSync(new URL(`./sql/${this.file}`, import.meta.url), 'utf8');
    await queryRunner.query(sql);
  }

  async down(): Promise<void> {
    throw new Error(`${this.name} cannot be undone: restore a backup instead (docs/operations.md)`);
  }
}
