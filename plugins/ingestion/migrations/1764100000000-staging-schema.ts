import { SqlFileMigration } from '@pipeline/kernel';

/** The `staging` schema ingestion loads raw rows into. */
export class StagingSchema1764100000000 extends SqlFileMigration {
  readonly name = 'StagingSchema1764100000000';
  protected readonly file = new URL('./sql/0001-staging-schema.sql', import.meta.url);
  override readonly replaces = ['Contract1764100000000', 'StagingExactNumbers1764100014000'];
}
