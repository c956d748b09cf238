import { performance } from 'node:perf_hooks';
import { sqlFile, type StageDatabase } from '@pipeline/kernel';
import type { DatabaseReading, LastSuccess, Layer, VolumeReading } from './health-report.js';

const numberOrNull = (text: string | null): number | null => (text === null ? null : Number(text));

/** What the monitoring stage reads from the database; one method per check. */
export class MonitoringReadings {
  constructor(private readonly db: Pick<StageDatabase, 'query'>) {}

  async lastSuccess(): Promise<LastSuccess | null> {
    const { rows } = await this.db.query<{ run_id: string; run_date: string; finished_at: Date }>(
      sqlFile(import.meta.url, 'last-success.sql'),
    );
    const row = rows[0];
    return row ? { runId: row.run_id, runDate: row.run_date, finishedAt: row.finished_at } : null;
  }

  async newestRowPerLayer(): Promise<Record<Layer, Date | null>> {
    const { rows } = await this.db.query<Record<Layer, Date | null>>(
      sqlFile(import.meta.url, 'layer-freshness.sql'),
    );
    const row = rows[0];
    return {
      staging: row?.staging ?? null,
      production: row?.production ?? null,
      warehouse: row?.warehouse ?? null,
    };
  }

  async dailyVolume(runDate: string, historyDays: number): Promise<VolumeReading> {
    const { rows } = await this.db.query<{
      run_date_transactions: string;
      history_days: number;
      mean: string | null;
      stddev: string | null;
      min: string | null;
      max: string | null;
    }>(sqlFile(import.meta.url, 'daily-volume.sql'), [runDate, historyDays]);
    const row = rows[0];
    if (!row) throw new Error('daily volume query returned no row');
    return {
      runDateTransactions: Number(row.run_date_transactions),
      historyDays: row.history_days,
      mean: numberOrNull(row.mean),
      stddev: numberOrNull(row.stddev),
      min: numberOrNull(row.min),
      max: numberOrNull(row.max),
    };
  }

  /** Round trip of `SELECT 1`; throws when the database cannot be reached. */
  async probe(): Promise<DatabaseReading> {
    const started = performance.now();
    await this.db.query('SELECT 1');
    const responseMs = Math.round((performance.now() - started) * 100) / 100;
    const { rows } = await this.db.query<{
      client_connections: number;
      active_connections: number;
      max_connections: number;
    }>(sqlFile(import.meta.url, 'connections.sql'));
    const row = rows[0];
    // Zero client backends means the server does not track them (this query is one itself).
    const connections =
      row && row.client_connections > 0
        ? { client: row.client_connections, active: row.active_connections, max: row.max_connections }
        : null;
    return { responseMs, connections };
  }
}
