import { SqlFileMigration } from '@pipeline/kernel';

/** The `analytics` schema: summaries, and the triggers that mark them stale when facts change. */
export class AnalyticsSchema1764100000000 extends SqlFileMigration {
  readonly name = 'AnalyticsSchema1764100000000';
  protected readonly file = new URL('./sql/0001-analytics-schema.sql', import.meta.url);
  override readonly replaces = ['AnalyticsSummaries1764100012000', 'OrderIndependentHistory1764100020000'];
}
