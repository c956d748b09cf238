import { SqlFileMigration } from '@pipeline/kernel';

/** Creates the loyalty schema. Never edit a released migration: add the next one. */
export class LoyaltySchema1766200000000 extends SqlFileMigration {
  readonly name = 'LoyaltySchema1766200000000';
  // From dist/migrations/ back to the SQL the package ships beside its sources.
  protected readonly file = new URL('../../migrations/sql/0001-loyalty-schema.sql', import.meta.url);
}
