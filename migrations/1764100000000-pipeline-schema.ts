import { SqlFileMigration } from '@pipeline/kernel';

/** The kernel's `pipeline` schema: runs, stage runs and attempts, skips, quarantine. */
export class PipelineSchema1764100000000 extends SqlFileMigration {
  readonly name = 'PipelineSchema1764100000000';
  protected readonly file = new URL('./sql/0001-pipeline-schema.sql', import.meta.url);
  override readonly replaces = ['Contract1764100000000', 'OrderIndependentHistory1764100020000'];
}
