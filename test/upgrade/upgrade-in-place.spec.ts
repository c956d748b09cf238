/**
 * A database migrated by release 0.1.0 (one global history, every schema in the repository's
 * migrations/) upgrades in place to plugin-owned schemas: nothing is re-run, nothing is lost,
 * and it ends up with the schema a new database gets.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../libs/database/index.js';
import { migrate, migrationStatus } from '../../libs/database/index.js';
import {
  builtInSchemaOwners,
  freshPostgres,
  needsPostgres,
  type TestDatabase,
} from '../support/databases.js';

/** Release 0.1.0's migrations, by the names its history recorded. */
const RELEASE_010 = [
  ['0001-contract.sql', 'Contract1764100000000'],
  ['0005-warehouse-discount-percentage.sql', 'WarehouseDiscountPercentage1764100005000'],
  ['0007-incremental-indexes.sql', 'IncrementalIndexes1764100007000'],
  ['0009-customer-segment-thresholds.sql', 'CustomerSegmentThresholds1764100009000'],
  ['0011-drop-fact-sales-payment-method-index.sql', 'DropFactSalesPaymentMethodIndex1764100011000'],
  ['0012-analytics-summaries.sql', 'AnalyticsSummaries1764100012000'],
  ['0013-product-performance-sums.sql', 'ProductPerformanceSums1764100013000'],
  ['0014-staging-exact-numbers.sql', 'StagingExactNumbers1764100014000'],
  ['0015-fact-sales-discount-adds-up.sql', 'FactSalesDiscountAddsUp1764100015000'],
  ['0020-order-independent-history.sql', 'OrderIndependentHistory1764100020000'],
  ['0021-cheap-change-indexes.sql', 'CheapChangeIndexes1764100021000'],
] as const;

const SQL_DIR = join(process.cwd(), 'test', 'upgrade', 'release-0.1.0');

/** Migrates `db` as release 0.1.0 did: its files in order, recorded in TypeORM's history table. */
async function migrateAsRelease010(db: Database): Promise<void> {
  assert.deepEqual(
    readdirSync(SQL_DIR)
      .filter((f) => f.endsWith('.sql'))
      .sort(),
    RELEASE_010.map(([file]) => file),
  );
  await db.pool.query(`CREATE SCHEMA IF NOT EXISTS pipeline;
    CREATE TABLE pipeline.migrations (id SERIAL PRIMARY KEY, "timestamp" bigint NOT NULL, name character varying NOT NULL)`);
  for (const [file, name] of RELEASE_010) {
    await db.pool.query(`BEGIN; ${readFileSync(join(SQL_DIR, file), 'utf8')}; COMMIT;`);
    await db.pool.query('INSERT INTO pipeline.migrations ("timestamp", name) VALUES ($1, $2)', [
      Number(name.slice(-13)),
      name,
    ]);
  }
}

/** Tables, columns, indexes, constraints and triggers of the pipeline's schemas, comparable. */
async function schemaOf(db: Database): Promise<string[]> {
  const schemas = "('pipeline', 'staging', 'production', 'warehouse', 'analytics')";
  const { rows } = await db.pool.query<{ item: string }>(`
    SELECT format('column %s.%s.%s %s %s %s', table_schema, table_name, column_name, data_type,
                  is_nullable, coalesce(column_default, '')) AS item
    FROM information_schema.columns
    WHERE table_schema IN ${schemas} AND table_name NOT LIKE 'migrations%'
    UNION ALL
    SELECT format('index %s', indexdef) FROM pg_indexes
    WHERE schemaname IN ${schemas} AND tablename NOT LIKE 'migrations%'
    UNION ALL
    SELECT format('constraint %s %s', conname, pg_get_constraintdef(c.oid)) FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname IN ${schemas} AND conrelid::regclass::text NOT LIKE 'pipeline.migrations%'
    UNION ALL
    SELECT format('trigger %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t
    JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace
    WHERE NOT t.tgisinternal AND n.nspname IN ${schemas}
    UNION ALL
    SELECT format('function %s.%s %s', n.nspname, p.proname, md5(p.prosrc)) FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ${schemas}
    ORDER BY 1`);
  return rows.map((r) => r.item);
}

describe('upgrading a database migrated by release 0.1.0', { skip: needsPostgres }, () => {
  let old: TestDatabase;
  let fresh: TestDatabase;
  before(async () => {
    old = await freshPostgres({ migrate: false });
    fresh = await freshPostgres();
    await migrateAsRelease010(old.db);
    await old.db.pool.query(`
      INSERT INTO staging.customers (customer_id, first_name, last_name, email, registration_date, city, state, country, age_group)
        VALUES ('CUST0001', 'Jane', 'Doe', 'jane@example.com', '2024-01-01', 'Pune', 'MH', 'India', '25-34');
      INSERT INTO warehouse.dim_date (date_key, full_date, year, quarter, month, day, month_name, day_name, week_of_year, is_weekend)
        VALUES (20240301, '2024-03-01', 2024, 1, 3, 1, 'March', 'Friday', 9, false);
      INSERT INTO pipeline.runs (id, trigger, run_date, status, owner, host, pid, code_version, config_hash)
        VALUES ('00000000-0000-4000-8000-000000000001', 'cli', '2024-03-01', 'succeeded', 'o', 'h', 1, '0.1.0', 'x');`);
  });
  after(async () => {
    await old?.dispose();
    await fresh?.dispose();
  });

  it('runs only what came after 0.1.0, records each owner as up to date, and keeps the data', async () => {
    // Nothing of 0.1.0 runs again; what was added since runs once: the kernel's operator controls
    // and the Citus layouts (which change nothing without the extension).
    assert.deepEqual(await migrate(old.db, builtInSchemaOwners), [
      'OperatorControls1764100040000',
      'CancelledStages1764100041000',
      'ProductionCitusLayout1764100060000',
      'CitusLayout1764100030000',
      'SalesSetAside1764100050000',
      'AnalyticsCitusLayout1764100060000',
    ]);
    for (const status of await migrationStatus(old.db, builtInSchemaOwners))
      assert.deepEqual(status.pending, [], `${status.owner} has nothing pending`);
    const { rows } = await old.db.pool.query<{ customers: number; dates: number; runs: number }>(`
      SELECT (SELECT count(*)::int FROM staging.customers) AS customers,
             (SELECT count(*)::int FROM warehouse.dim_date) AS dates,
             (SELECT count(*)::int FROM pipeline.runs) AS runs`);
    assert.deepEqual(rows[0], { customers: 1, dates: 1, runs: 1 });
    const legacy = await old.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pipeline.migrations',
    );
    assert.equal(
      legacy.rows[0]!.n,
      RELEASE_010.length + 3,
      "release 0.1.0's history stays, with the kernel's baseline, its operator controls and cancelled stages",
    );
    assert.deepEqual(await migrate(old.db, builtInSchemaOwners), [], 'and nothing the second time');
  });

  it('leaves the upgraded database with exactly the schema a new one gets', async () => {
    const upgraded = await schemaOf(old.db);
    assert.ok(
      upgraded.includes('column warehouse.fact_sales.discount_amount numeric NO '),
      'the contract is there',
    );
    assert.deepEqual(upgraded, await schemaOf(fresh.db));
  });
});
