/**
 * Times the quality gate on a synthetic staging set in a fresh PostgreSQL database:
 *   npm run build && node dist/bench/quality-checks.bench.js [transactions=100000] [work_mem_mb,...=64]
 * Prints the load time, then per work_mem value each check's time and the stage's total; the
 * database is dropped after.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createTestBed, type Database, type TestBed } from '@pipeline/kernel/testing';
import dataGeneration from '@pipeline/plugin-data-generation';
import ingestion from '@pipeline/plugin-ingestion';
import productionEtl from '@pipeline/plugin-production-etl';
import qualityChecks, { QualityChecksStage, type QualityConfig } from '@pipeline/plugin-quality-checks';

const transactions = Number(process.argv[2] ?? 100_000);
const workMemsMb = (process.argv[3] ?? '64').split(',').map(Number);

async function fillStaging(db: Database): Promise<void> {
  const started = performance.now();
  const client = await db.pool.connect();
  try {
    await client.query(`SELECT set_config('bench.transactions', $1, false)`, [String(transactions)]);
    await client.query(readFileSync(new URL('./quality-checks.bench.sql', import.meta.url), 'utf8'));
    await client.query(
      'ANALYZE staging.customers, staging.products, staging.transactions, staging.transaction_items',
    );
  } finally {
    client.release();
  }
  const counts = await db.pool.query<{ t: string; n: string }>(
    `SELECT 'customers' AS t, count(*) AS n FROM staging.customers UNION ALL SELECT 'products', count(*) FROM staging.products
     UNION ALL SELECT 'transactions', count(*) FROM staging.transactions UNION ALL SELECT 'transaction_items', count(*) FROM staging.transaction_items`,
  );
  const loaded = counts.rows.map((r) => `${r.t} ${r.n}`).join(', ');
  console.log(`loaded ${loaded} in ${Math.round(performance.now() - started)} ms`);
}

async function timeStage(bed: TestBed, workMemMb: number): Promise<void> {
  const ctx = bed.context<QualityConfig>('quality-checks', {
    config: { quality: { work_mem_mb: workMemMb } },
    runDate: '2025-01-01',
  });
  const started = performance.now();
  let outcome: string;
  try {
    await new QualityChecksStage().run(ctx);
    outcome = 'gate open';
  } catch (error) {
    outcome = `gate closed: ${(error as Error).message.slice(0, 120)}...`;
  }
  const total = Math.round(performance.now() - started);
  const report = JSON.parse(readFileSync(`${ctx.paths.own}/data_quality_report.json`, 'utf8')) as {
    overall_quality_score: number;
    checks: Array<{ name: string; failed: number; duration_ms: number }>;
    quarantine: { rows: number };
  };
  console.log(`work_mem ${workMemMb} MB`);
  for (const c of report.checks)
    console.log(`${String(c.duration_ms).padStart(7)} ms  ${c.name} (${c.failed} failed)`);
  console.log(
    `stage total ${total} ms; score ${report.overall_quality_score}; quarantined ${report.quarantine.rows}; ${outcome}`,
  );
}

// Staging is ingestion's; the gate also reads production's business dates.
const bed = await createTestBed({
  plugins: [dataGeneration, ingestion, qualityChecks, productionEtl],
  database: 'postgres',
});
try {
  await fillStaging(bed.db);
  for (const workMemMb of workMemsMb) await timeStage(bed, workMemMb);
} finally {
  await bed.dispose();
}
