import { performance } from 'node:perf_hooks';
import { sqlFile, type StageTransaction } from '@pipeline/kernel';
import type { CheckDefinition, CheckParameter, StagingTable } from './quality-checks.catalog.js';
import type { InputDates } from './input-dates.js';

export interface TableProfile {
  readonly table: StagingTable;
  readonly rows: number;
  /** Per mandatory field, in the order the SQL lists them: rows where it is NULL or blank. */
  readonly missing: Readonly<Record<string, number>>;
}

/** What the fast pass found: which checks have failing rows, and what it cost per check. */
export interface ProfilePass {
  readonly profiles: readonly TableProfile[];
  /**
   * Per check name: above 0 whenever the check has failing rows (not necessarily their count; a
   * duplicate check may also be above 0 for repeated blank ids, which its own statement skips).
   */
  readonly suspects: ReadonlyMap<string, number>;
  /** Per check name: its share of the pass's time (a statement's time split over the checks it answers). */
  readonly durationsMs: ReadonlyMap<string, number>;
}

interface ProfileStatement {
  readonly file: string;
  /** The table whose row count and per-column missing values the statement returns, if any. */
  readonly table: StagingTable | null;
  readonly parameters: readonly CheckParameter[];
}

/** The fast pass: one statement per table, and one for the transactions-items sums and orphans. */
const PROFILE_STATEMENTS: readonly ProfileStatement[] = [
  {
    file: 'profile_customers.sql',
    table: 'customers',
    parameters: ['runDate', 'earliestDate', 'latestDate'],
  },
  { file: 'profile_products.sql', table: 'products', parameters: [] },
  {
    file: 'profile_transactions.sql',
    table: 'transactions',
    parameters: ['runDate', 'earliestDate', 'latestDate'],
  },
  { file: 'profile_transaction_items.sql', table: 'transaction_items', parameters: ['tolerance', 'runDate'] },
  { file: 'profile_transaction_sums.sql', table: null, parameters: ['tolerance', 'runDate'] },
];

/** The quality gate's SQL, all of it inside the stage's one transaction. */
export class QualityRepository {
  constructor(private readonly tx: StageTransaction) {}

  /**
   * For this transaction only. JIT off: at a million items the checks' plan costs cross
   * jit_above_cost, and compiling each statement costs more than it saves.
   */
  async setWorkMem(megabytes: number): Promise<void> {
    await this.tx.query(`SELECT set_config('work_mem', $1, true), set_config('jit', 'off', true)`, [
      `${megabytes}MB`,
    ]);
  }

  /** The dates of the staged sales, and the business date loaded before the run's. */
  async inputDates(runDate: string): Promise<InputDates> {
    const { rows } = await this.tx.query<InputDates>(sqlFile(import.meta.url, 'sql/input-dates.sql'), [
      runDate,
    ]);
    return rows[0]!;
  }

  /** Makes a retried attempt of the same run start from an empty quarantine. */
  async clearQuarantine(runId: string): Promise<void> {
    await this.tx.query('DELETE FROM pipeline.quarantine WHERE run_id = $1', [runId]);
  }

  /**
   * One read of every table (plus one grouped pass for the sums): row counts, missing values per
   * column, and for every check whether it has failing rows. A table's completeness check has
   * failing rows exactly when one of its columns has a missing value.
   */
  async profile(values: Readonly<Record<CheckParameter, string>>): Promise<ProfilePass> {
    const profiles: TableProfile[] = [];
    const suspects = new Map<string, number>();
    const durationsMs = new Map<string, number>();
    for (const statement of PROFILE_STATEMENTS) {
      const started = performance.now();
      const result = await this.tx.query<{
        row_count?: string;
        missing?: Record<string, string | number>;
        failing: Record<string, string | number>;
      }>(
        sqlFile(import.meta.url, `sql/${statement.file}`),
        statement.parameters.map((p) => values[p]),
      );
      const elapsedMs = performance.now() - started;
      const row = result.rows[0]!;
      const answered = Object.entries(row.failing).map(([name, n]) => [name, Number(n)] as const);
      if (statement.table) {
        const missing = Object.fromEntries(
          Object.entries(row.missing ?? {}).map(([column, n]) => [column, Number(n)]),
        );
        profiles.push({ table: statement.table, rows: Number(row.row_count), missing });
        const anyMissing = Object.values(missing).reduce((a, b) => a + b, 0);
        answered.push([`${statement.table}_missing_values`, anyMissing]);
      }
      for (const [name, n] of answered) {
        suspects.set(name, n);
        durationsMs.set(name, elapsedMs / answered.length);
      }
    }
    return { profiles, suspects, durationsMs };
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
