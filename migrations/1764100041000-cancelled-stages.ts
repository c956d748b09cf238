import { SqlFileMigration } from '@pipeline/kernel';

/** A `cancelled` status for stages and attempts an operator's cancel stopped. */
export class CancelledStages1764100041000 extends SqlFileMigration {
  readonly name = 'CancelledStages1764100041000';
  protected readonly file = new URL('./sql/0041-cancelled-stages.sql', import.meta.url);
}
