/**
 * Databases for tests. Each test file gets its own: a fresh PostgreSQL database (dropped at the
 * end) or a fresh embedded one in a temporary folder, so runs never collide.
 *
 * `TEST_DATABASE_URL` names a server and a database to administer from (default: the local
 * server, trust auth). Without a reachable server, tests that need one are skipped and say so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Secret } from '../../libs/config/index.js';
import { defaultPlugins } from '../../apps/daemon/src/plugins.js';
import { schemaOwners } from '../../apps/daemon/src/schema.js';
import { loadPlugins } from '../../libs/kernel/index.js';
import { postgresUnavailable } from '@pipeline/kernel/testing';

/** The kernel's and the built-in plugins' migrations, as the daemon applies them. */
export const builtInSchemaOwners = schemaOwners(await loadPlugins(defaultPlugins));
import { EmbeddedDatabase, PostgresDatabase, migrate, type Database } from '../../libs/database/index.js';

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether a real PostgreSQL server is reachable (the kit asks it); use as `{ skip: needsPostgres }`. */
export const needsPostgres: false | string = await postgresUnavailable();
export const postgresAvailable = needsPostgres === false;

export interface TestDatabase {
  readonly db: Database;
  /** The URL of this database (PostgreSQL only), e.g. for child processes. */
  readonly url: string | null;
  /** The data folder (embedded only). */
  readonly dir: string | null;
  dispose(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database `t_<random>` on the test server; returns its URL. */
export async function createPostgresDatabase(
  prefix = 't',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function freshPostgres(
  options: { migrate?: boolean; poolSize?: number } = {},
): Promise<TestDatabase> {
  const { url, drop } = await createPostgresDatabase();
  const db = new PostgresDatabase({
    url: new Secret(url),
    poolSize: options.poolSize ?? 5,
    statementTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
  });
  if (options.migrate !== false) await migrate(db, builtInSchemaOwners);
  return {
    db,
    url,
    dir: null,
    dispose: async () => {
      await db.close().catch(() => undefined);
      await drop();
    },
  };
}

export async function freshEmbedded(
  options: { migrate?: boolean; poolSize?: number; copyChunkBytes?: number } = {},
): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-embedded-'));
  const db = await EmbeddedDatabase.open({
    dir: join(dir, 'db'),
    poolSize: options.poolSize ?? 5,
    copyChunkBytes: options.copyChunkBytes,
  });
  if (options.migrate !== false) await migrate(db, builtInSchemaOwners);
  return {
    db,
    url: null,
    dir,
    dispose: async () => {
      await db.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The databases a test should run against: both kinds, PostgreSQL only when reachable. */
export const databaseKinds: ReadonlyArray<{
  kind: 'postgres' | 'embedded';
  skip: false | string;
  open: typeof freshPostgres;
}> = [
  { kind: 'postgres', skip: needsPostgres, open: freshPostgres },
  { kind: 'embedded', skip: false, open: freshEmbedded },
];
