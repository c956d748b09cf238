import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { QueryRunner } from 'typeorm';
import { freshPostgres, needsPostgres, type TestDatabase } from '../../test/support/databases.js';
import { historyTable, KERNEL_SCHEMA_OWNER, migrate, MigrationError, migrationStatus } from './migrator.js';

/** A migration class running `sql`, named `name` (13-digit timestamp last). */
function migration(name: string, sql: string) {
  return class {
    readonly name = name;
    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(sql);
    }
    async down(): Promise<void> {}
  };
}

const kernel = {
  name: KERNEL_SCHEMA_OWNER,
  migrations: [migration('KernelTable1766000000000', 'CREATE TABLE pipeline.kernel_probe (id int)')],
};
const points = {
  name: '@acme/points',
  migrations: [
    migration('PointsSchema1766000000000', 'CREATE SCHEMA points; CREATE TABLE points.balance (id int)'),
  ],
};
const broken = {
  name: '@acme/broken',
  migrations: [
    migration('BrokenSchema1766000000000', 'CREATE SCHEMA broken; CREATE TABLE broken.first (id int)'),
    migration('BrokenIndex1766000001000', 'CREATE INDEX ON broken.first (no_such_column)'),
  ],
};

describe('plugin-owned migrations', { skip: needsPostgres }, () => {
  let test: TestDatabase;
  before(async () => {
    test = await freshPostgres({ migrate: false });
  });
  after(async () => test?.dispose());

  const tableExists = async (name: string): Promise<boolean> =>
    (await test.db.pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [name]))
      .rows[0]!.found !== null;

  it('rolls back a failing plugin migration alone and names the plugin and the migration', async () => {
    await assert.rejects(
      migrate(test.db, [kernel, points, broken]),
      (error: unknown) =>
        error instanceof MigrationError &&
        /^@acme\/broken: migration BrokenIndex1766000001000 failed, and @acme\/broken's pending migrations were rolled back: column "no_such_column" does not exist$/.test(
          error.message,
        ),
    );
    assert.ok(await tableExists('pipeline.kernel_probe'), "the kernel's migration stays");
    assert.ok(await tableExists('points.balance'), 'the plugin before it keeps its migration');
    assert.equal(await tableExists('broken.first'), false, 'the failing plugin rolled back whole');
    const status = await migrationStatus(test.db, [kernel, points, broken]);
    assert.deepEqual(
      status.map((s) => [s.owner, s.table, s.applied, s.pending]),
      [
        [KERNEL_SCHEMA_OWNER, 'pipeline.migrations', ['KernelTable1766000000000'], []],
        ['@acme/points', 'pipeline.migrations_acme_points', ['PointsSchema1766000000000'], []],
        [
          '@acme/broken',
          'pipeline.migrations_acme_broken',
          [],
          ['BrokenSchema1766000000000', 'BrokenIndex1766000001000'],
        ],
      ],
    );
  });

  it('keeps a history per plugin and applies nothing twice', async () => {
    assert.deepEqual(await migrate(test.db, [kernel, points]), []);
    assert.equal(
      historyTable('@pipeline/plugin-production-etl'),
      'migrations_pipeline_plugin_production_etl',
    );
  });
});
