import { DataSource } from 'typeorm';
// eslint-disable-next-line pipeline/package-boundaries -- until each plugin owns its migrations (issue 17, item 4)
import { migrations } from '../../migrations/index.js';
import { LockId, withAdvisoryLock } from './advisory-lock.js';
import type { Database } from './database.js';

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

function dataSourceFor(db: Database): DataSource {
  const c = db.clientConfig;
  return new DataSource({
    type: 'postgres',
    ...(c.connectionString
      ? { url: c.connectionString }
      : { host: String(c.host), port: Number(c.port), database: c.database }),
    username: c.user,
    schema: 'pipeline',
    migrationsTableName: 'migrations',
    migrations,
    migrationsTransactionMode: 'all',
    logging: false,
    extra: { max: 2, application_name: 'pipeline-migrate' },
  });
}

/**
 * Applies pending migrations in one transaction, under an advisory lock so that replicas
 * starting together apply them once. Returns the names applied now.
 */
export async function migrate(db: Database): Promise<string[]> {
  const client = await db.openDedicatedClient();
  try {
    return await withAdvisoryLock(client, LockId.migrate, async () => {
      // TypeORM keeps its history table in `pipeline`, so the schema must exist first.
      await client.query('CREATE SCHEMA IF NOT EXISTS pipeline');
      const source = await dataSourceFor(db).initialize();
      try {
        const applied = await source.runMigrations({ transaction: 'all' });
        return applied.map((m) => m.name);
      } finally {
        await source.destroy();
      }
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which migrations the database has and which it lacks (readiness and `pipeline migrate --status`). */
export async function migrationStatus(db: Database): Promise<MigrationStatus> {
  const known = migrations.map((m) => m.name);
  let applied: string[] = [];
  try {
    const { rows } = await db.pool.query<{ name: string }>(
      'SELECT name FROM pipeline.migrations ORDER BY id',
    );
    applied = rows.map((r) => r.name);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P01') throw error; // undefined_table: nothing applied yet
  }
  return { applied, pending: known.filter((name) => !applied.includes(name)) };
}
