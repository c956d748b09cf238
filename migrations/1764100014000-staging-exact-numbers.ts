import { SqlFileMigration } from './sql-migration.js';

export class StagingExactNumbers1764100014000 extends SqlFileMigration {
  readonly name = 'StagingExactNumbers1764100014000';
  protected readonly file = '0014-staging-exact-numbers.sql';
}
