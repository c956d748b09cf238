import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { redactUrl, type Secret } from '../../config/index.js';
import {
  assertTableName,
  copyColumns,
  type BulkLoader,
  type CopyTarget,
  type Database,
} from '../database.js';

/**
 * How often the server looks, while it runs a statement, whether the client is still connected
 * (PostgreSQL 14+). Without it a statement of a killed process runs on to its end: the server
 * notices the closed socket only when it sends the result.
 */
const CLIENT_CHECK_INTERVAL_MS = 2_000;

export interface PostgresOptions {
  url: Secret;
  poolSize: number;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName?: string;
}

/** COPY FROM STDIN streamed from the source: the server parses, nothing is buffered whole. */
export class PostgresBulkLoader implements BulkLoader {
  async copyCsv(client: pg.PoolClient, target: CopyTarget, records: Readable): Promise<number> {
    const sql = `COPY ${assertTableName(target.table)} (${copyColumns(target.columns)}) FROM STDIN WITH (FORMAT csv)`;
    const sink = client.query(copyFrom(sql));
    await pipeline(records, sink);
    return Number(sink.rowCount ?? 0);
  }

  /** COPY TO STDOUT streamed into the sink: no row is parsed or re-formatted on this side. */
  async copyCsvOut(client: pg.PoolClient, query: string, sink: Writable): Promise<number> {
    const source = client.query(copyTo(`COPY (${query}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
    await pipeline(source, sink);
    return Number(source.rowCount ?? 0);
  }
}

export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly bulkLoader = new PostgresBulkLoader();
  readonly clientConfig: pg.ClientConfig;
  readonly description: string;

  constructor(options: PostgresOptions) {
    const url = options.url.reveal();
    this.description = `PostgreSQL at ${redactUrl(url)}`;
    this.clientConfig = {
      connectionString: url,
      // CI may run without $USER; pg then needs the user from the URL, never from the OS.
      user: new URL(url).username || 'postgres',
      application_name: options.applicationName ?? 'pipeline-daemon',
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs || undefined,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      options: `-c client_connection_check_interval=${CLIENT_CHECK_INTERVAL_MS}`,
    };
    this.pool = new pg.Pool({ ...this.clientConfig, max: options.poolSize, idleTimeoutMillis: 30_000 });
    // An idle client that loses its server (restart, pg_terminate_backend) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async openDedicatedClient(): Promise<pg.Client> {
    const client = new pg.Client({
      ...this.clientConfig,
      statement_timeout: undefined,
      // Short keepalives: a holder whose network died loses its lock within seconds, not hours.
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      application_name: `${this.clientConfig.application_name ?? 'pipeline-daemon'}:lock`,
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async interruptSessions(backends: readonly number[], how: 'cancel' | 'terminate'): Promise<void> {
    if (backends.length === 0) return;
    const client = new pg.Client({
      ...this.clientConfig,
      statement_timeout: undefined,
      application_name: `${this.clientConfig.application_name ?? 'pipeline-daemon'}:interrupt`,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(
        how === 'cancel'
          ? 'SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid'
          : 'SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid',
        [backends],
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
