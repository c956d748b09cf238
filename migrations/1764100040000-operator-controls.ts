import { SqlFileMigration } from './sql-migration.js';

export class OperatorControls1764100040000 extends SqlFileMigration {
  readonly name = 'OperatorControls1764100040000';
  protected readonly file = '0040-operator-controls.sql';
}
