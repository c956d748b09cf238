import { sqlFile, type StageTransaction } from '../../libs/kernel/index.js';
import type { CheckDefinition, CheckParameter, StagingTable } from './quality-checks.catalog.js';

export interface TableProfile {
  readonly table: StagingTable;
  readonly rows: number;
  /** Per mandatory field, in the order the SQL lists them: rows where it is NULL or blank. */
  readonly missing: Readonly<Record<string, number>>;
}

/** The quality gate's SQL, all of it inside the stage's one transaction. */
export class QualityRepository {
  constructor(private readonly tx: StageTransaction) {}

  /**
   * For this transaction only. JIT off: at a million items the checks' plan costs cross
   * jit_above_cost, and compiling each of the 24 statements costs more than it saves.
   */
  async setWorkMem(megabytes: number): Promise<void> {
    await this.tx.query(`SELECT set_config('work_mem', $1, true), set_config('jit', 'off', true)`, [
      `${megabytes}MB`,
    ]);
  }

  /** Makes a retried attempt of the same run start from an empty quarantine. */
  async clearQuarantine(runId: string): Promise<void> {
    await this.tx.query('DELETE FROM pipeline.quarantine WHERE run_id = $1', [runId]);
  }

  async profileTables(): Promise<TableProfile[]> {
    const result = await this.tx.query<{
      table_name: StagingTable;
      row_count: string;
      missing: Record<string, string | number>;
    }>(sqlFile(import.meta.url, 'sql/table_profiles.sql'));
    return result.rows.map((r) => ({
      table: r.table_name,
      rows: Number(r.row_count),
      missing: Object.fromEntries(
        Object.entries(r.missing).map(([column, count]) => [column, Number(count)]),
      ),
    }));
  }

  /** Runs one check: quarantines its failing rows and returns how many there were. */
  async quarantineFailures(
    check: CheckDefinition,
    runId: string,
    values: Readonly<Record<CheckParameter, string>>,
  ): Promise<number> {
    const params = [runId, ...check.parameters.map((p) => values[p])];
    const result = await this.tx.query(sqlFile(import.meta.url, `sql/${check.name}.sql`), params);
    return result.rowCount ?? 0;
  }
}
