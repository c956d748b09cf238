import type pg from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { LockId, withAdvisoryLock } from './advisory-lock.js';
import type { Database } from './database.js';

/** What a migration's `recheck` runs its statements with. */
export interface MigrationRunner {
  query(sql: string): Promise<unknown>;
}

/** A TypeORM migration class; `name` ends in its 13-digit timestamp, which orders it. */
export type MigrationClass = (new () => MigrationInterface & {
  readonly name?: string;
  /**
   * The names, in the global history of release 0.1.0 (`pipeline.migrations`), of the migrations
   * that together did what this one does: on a database that has all of them it is recorded as
   * applied, not run.
   */
  readonly replaces?: readonly string[];
}) & {
  /**
   * For a migration whose effect depends on what the database has beside its history (an
   * extension installed after the migration was recorded, say): run by every `migrate` after its
   * owner's migrations, in a transaction of its own; it does whatever is still missing and says
   * whether it did anything.
   */
  readonly recheck?: (runner: MigrationRunner) => Promise<boolean>;
};

/** Who owns a set of migrations (the kernel, or a plugin package) and so a history of its own. */
export interface SchemaOwner {
  readonly name: string;
  readonly migrations: readonly MigrationClass[];
}

/** The kernel's history keeps the table release 0.1.0 used for every schema. */
export const KERNEL_SCHEMA_OWNER = 'kernel';

/** A plugin's migration failed: its pending migrations were rolled back; other owners' stay. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export interface MigrationStatus {
  readonly owner: string;
  /** `pipeline.<table>`: this owner's history. */
  readonly table: string;
  readonly applied: string[];
  readonly pending: string[];
}

/** `pipeline.migrations` for the kernel, `pipeline.migrations_<package, as a name>` for a plugin. */
export function historyTable(owner: string): string {
  if (owner === KERNEL_SCHEMA_OWNER) return 'migrations';
  return `migrations_${owner
    .replace(/^@/, '')
    .replace(/[^a-zA-Z0-9]+/g, '_')
    .toLowerCase()}`.slice(0, 63);
}

const nameOf = (migration: MigrationClass): string => {
  const instance = new migration();
  return instance.name ?? migration.name;
};

const timestampOf = (name: string): number => Number(/(\d{13})$/.exec(name)?.[1] ?? 0);

/** Runs each migration as itself, but names it (and its owner) when it fails. */
function named(owner: string, migration: MigrationClass): MigrationClass {
  return class extends migration {
    override async up(queryRunner: QueryRunner): Promise<void> {
      try {
        await super.up(queryRunner);
      } catch (error) {
        const reason = ((error as Error).message ?? String(error)).split('\n')[0];
        throw new MigrationError(
          `${owner}: migration ${nameOf(migration)} failed, and ${owner}'s pending migrations were rolled back: ${reason}`,
        );
      }
    }
  };
}

function dataSourceFor(db: Database, owner: SchemaOwner): DataSource {
  const c = db.clientConfig;
  return new DataSource({
    type: 'postgres',
    ...(c.connectionString
      ? { url: c.connectionString }
      : { host: String(c.host), port: Number(c.port), database: c.database }),
    username: c.user,
    schema: 'pipeline',
    migrationsTableName: historyTable(owner.name),
    migrations: owner.migrations.map((m) => named(owner.name, m)),
    migrationsTransactionMode: 'all',
    logging: false,
    extra: { max: 2, application_name: 'pipeline-migrate' },
  });
}

async function historyOf(client: Pick<pg.ClientBase, 'query'>, table: string): Promise<string[] | null> {
  try {
    const { rows } = await client.query<{ name: string }>(`SELECT name FROM pipeline.${table} ORDER BY id`);
    return rows.map((r) => r.name);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return null; // undefined_table: no history yet
    throw error;
  }
}

/**
 * Records as applied, without running them, the owner's migrations that a database migrated by
 * release 0.1.0 already has: those named in its global history, and those that replace migrations
 * all of which are there. A database that has only some of them was migrated by an older
 * release, which this one cannot continue from.
 */
async function adoptRelease010(client: pg.ClientBase, owner: SchemaOwner, legacy: ReadonlySet<string>) {
  if (legacy.size === 0) return;
  const table = historyTable(owner.name);
  await client.query(
    `CREATE TABLE IF NOT EXISTS pipeline.${table} (id SERIAL PRIMARY KEY, "timestamp" bigint NOT NULL, name character varying NOT NULL)`,
  );
  const recorded = new Set((await historyOf(client, table)) ?? []);
  for (const migration of owner.migrations) {
    const name = nameOf(migration);
    if (recorded.has(name)) continue;
    const replaces = new migration().replaces ?? [];
    const present = replaces.filter((r) => legacy.has(r));
    if (replaces.length > 0 && present.length > 0 && present.length < replaces.length) {
      throw new MigrationError(
        `${owner.name}: migration ${name} replaces ${replaces.join(', ')}, of which the database has only ${present.join(', ')}: migrate it with release 0.1.0 first`,
      );
    }
    if (legacy.has(name) || (replaces.length > 0 && present.length === replaces.length))
      await client.query(`INSERT INTO pipeline.${table} ("timestamp", name) VALUES ($1, $2)`, [
        timestampOf(name),
        name,
      ]);
  }
}

/**
 * Applies pending migrations, owner by owner in the order given (the kernel's, then the plugins'
 * in dependency order), each owner's in one transaction, under an advisory lock so that replicas
 * starting together apply them once. Returns the names applied now. When one owner's migration
 * fails, that owner's pending migrations roll back and a `MigrationError` names it; the owners
 * before it keep theirs.
 */
export async function migrate(db: Database, owners: readonly SchemaOwner[]): Promise<string[]> {
  const client = await db.openDedicatedClient();
  try {
    return await withAdvisoryLock(client, LockId.migrate, async () => {
      // TypeORM keeps its history tables in `pipeline`, so the schema must exist first.
      await client.query('CREATE SCHEMA IF NOT EXISTS pipeline');
      // Release 0.1.0 kept one history for every schema, in the kernel's table.
      const kernelHistory = (await historyOf(client, historyTable(KERNEL_SCHEMA_OWNER))) ?? [];
      const kernelNames = new Set(
        owners.filter((o) => o.name === KERNEL_SCHEMA_OWNER).flatMap((o) => o.migrations.map(nameOf)),
      );
      const legacy = new Set(kernelHistory.filter((name) => !kernelNames.has(name)));
      const applied: string[] = [];
      for (const owner of owners) {
        await adoptRelease010(client, owner, legacy);
        const source = await dataSourceFor(db, owner).initialize();
        try {
          applied.push(...(await source.runMigrations({ transaction: 'all' })).map((m) => m.name));
        } finally {
          await source.destroy();
        }
        for (const migration of owner.migrations.filter((m) => m.recheck)) {
          await client.query('BEGIN');
          try {
            if (await migration.recheck!(client)) applied.push(`${nameOf(migration)} (rechecked)`);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            const reason = ((error as Error).message ?? String(error)).split('\n')[0];
            throw new MigrationError(
              `${owner.name}: migration ${nameOf(migration)} failed its recheck: ${reason}`,
            );
          }
        }
      }
      return applied;
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which migrations each owner has applied and which it lacks (readiness, `pipeline migrate --status`). */
export async function migrationStatus(
  db: Database,
  owners: readonly SchemaOwner[],
): Promise<MigrationStatus[]> {
  const statuses: MigrationStatus[] = [];
  for (const owner of owners) {
    const table = historyTable(owner.name);
    const applied = (await historyOf(db.pool, table)) ?? [];
    statuses.push({
      owner: owner.name,
      table: `pipeline.${table}`,
      applied: applied.filter((name) => owner.migrations.some((m) => nameOf(m) === name)),
      pending: owner.migrations.map(nameOf).filter((name) => !applied.includes(name)),
    });
  }
  return statuses;
}
