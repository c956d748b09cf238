import { SqlFileMigration } from '@pipeline/kernel';

/** Cancel requests, retries and per-run logs (issue 18): kernel tables in the `pipeline` schema. */
export class OperatorControls1764100040000 extends SqlFileMigration {
  readonly name = 'OperatorControls1764100040000';
  protected readonly file = new URL('./sql/0040-operator-controls.sql', import.meta.url);
}
