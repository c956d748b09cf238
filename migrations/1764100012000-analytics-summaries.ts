import { SqlFileMigration } from './sql-migration.js';

export class AnalyticsSummaries1764100012000 extends SqlFileMigration {
  readonly name = 'AnalyticsSummaries1764100012000';
  protected readonly file = '0012-analytics-summaries.sql';
}
