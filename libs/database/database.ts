import type { Readable, Writable } from 'node:stream';
import type pg from 'pg';

/** Where a bulk load goes: a table and the columns, in the order the CSV records carry them. */
export interface CopyTarget {
  /** Schema-qualified table name, e.g. `staging.customers`. */
  readonly table: string;
  readonly columns: readonly string[];
}

/**
 * The bulk-load port: moves CSV records (RFC 4180, no header row) into a table inside the
 * transaction open on `client`. PostgreSQL streams them with COPY FROM STDIN; the embedded
 * database cannot take COPY over its socket and loads bounded chunks with its own API instead.
 */
export interface BulkLoader {
  copyCsv(client: pg.PoolClient, target: CopyTarget, records: Readable): Promise<number>;
  /**
   * Streams the rows of `query` (a SELECT with no parameters left) into `sink` as CSV with a
   * header row, RFC 4180, formatted by the server; returns the rows. PostgreSQL only (COPY TO
   * STDOUT): the embedded database takes no COPY over its socket, and callers fetch instead.
   */
  copyCsvOut?(client: pg.PoolClient, query: string, sink: Writable): Promise<number>;
}

/** One database, external or embedded, seen through the same `pg` driver. */
export interface Database {
  readonly kind: 'postgres' | 'embedded';
  /** The pool every stage and store queries through. */
  readonly pool: pg.Pool;
  readonly bulkLoader: BulkLoader;
  /** Settings for a new `pg` client on the same database (TypeORM and dedicated connections). */
  readonly clientConfig: pg.ClientConfig;
  /** A connection outside the pool (the run lock's), with short TCP keepalives. */
  openDedicatedClient(): Promise<pg.Client>;
  /**
   * Stops what sessions of this process do on the server, from a connection of its own (so it
   * works while the pool is exhausted): `cancel` ends the statement each runs, `terminate` ends
   * the session, rolling back its transaction. `backends` are the sessions' process ids
   * (`pg.Client#processID`). Absent where the database cannot: the embedded one runs every
   * statement of its one shared session in its own thread.
   */
  interruptSessions?(backends: readonly number[], how: 'cancel' | 'terminate'): Promise<void>;
  /** A description safe to log: no password. */
  readonly description: string;
  close(): Promise<void>;
}

/** Identifies a SQL identifier list safely for COPY; names come from code, never from data. */
export function copyColumns(columns: readonly string[]): string {
  return columns
    .map((c) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`not a plain column name: ${c}`);
      return c;
    })
    .join(', ');
}

export function assertTableName(table: string): string {
  if (!/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(table))
    throw new Error(`not a schema-qualified table name: ${table}`);
  return table;
}
