import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type TableLoadStatus = 'loaded' | 'failed' | 'rolled_back' | 'not_loaded';

/** One file's line in `ingestion_summary.json`. */
export interface TableLoadSummary {
  readonly table: string;
  /** Relative to the data folder. */
  readonly file: string;
  readonly bytes: number | null;
  /** Data records in the file (header and trailing empty lines not counted); null if never read. */
  readonly rows_in_file: number | null;
  /** Rows this run left in the table: 0 when the transaction rolled back. */
  readonly rows_loaded: number;
  readonly status: TableLoadStatus;
  readonly error: string | null;
  readonly duration_ms: number | null;
}

export interface IngestionSummary {
  readonly run_id: string;
  readonly run_date: string;
  readonly status: 'succeeded' | 'failed';
  readonly input_dir: string;
  readonly duration_ms: number;
  readonly error: string | null;
  readonly tables: readonly TableLoadSummary[];
}

/** Written beside, then renamed over, the old file: a reader never sees half a summary. */
export async function writeSummary(path: string, summary: IngestionSummary): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(summary, null, 2)}\n`);
  await rename(temporary, path);
}
