import { SqlFileMigration } from './sql-migration.js';

export class CustomerSegmentThresholds1764100009000 extends SqlFileMigration {
  readonly name = 'CustomerSegmentThresholds1764100009000';
  protected readonly file = '0009-customer-segment-thresholds.sql';
}
