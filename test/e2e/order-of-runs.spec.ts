/**
 * The rule of the order of runs (README, "Order of runs"): after any sequence of runs (in order,
 * out of order, a day redone, a gap filled later, a day rerun with corrected files), production,
 * the warehouse, the analytics summaries and every export equal what loading each business
 * date's final input once, in date order, gives.
 *
 * Property style: a dozen generated business dates at a small scale (a full load and eleven
 * days, with more member churn than the defaults), one date whose files are corrected later;
 * seeded random sequences of loads, each compared with the in-order build by checksums over
 * natural keys and values of every table, and by the bytes of every export. On PostgreSQL and on
 * the embedded database, whose in-order build must equal PostgreSQL's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { datesBetween } from '../../libs/kernel/index.js';
import { postgresUnavailable, type TestBed } from '@pipeline/kernel/testing';
import {
  dayBed,
  exportsOf,
  generateDays,
  placeInput,
  readCsv,
  runDay,
  stateChecksums,
  writeCsv,
} from '../support/pipeline-days.js';

const FULL_LOAD = '2024-12-31';
const DAILY = datesBetween('2025-01-01', '2025-01-11');
const DATES = [FULL_LOAD, ...DAILY];
/** The date whose files are corrected after they were first loaded. */
const CORRECTED = '2025-01-05';

const GENERATION = {
  seed: 20261206,
  customers: 120,
  products: 60,
  transactions: 600,
  start_date: '2024-10-01',
  daily: { transactions: 25, change_share: 0.08, disappear_share: 0.04, return_share: 0.3 },
};

/**
 * sfc32, seeded: the same sequences on every run, so that a failure can be replayed. Its first
 * outputs barely depend on the seed (every seed shuffled the last dates alike: 01-03 01-08 01-06
 * 01-09), so the first fifteen are thrown away, as the usual sfc32 seeding does.
 */
function random(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/**
 * The sequences' seeds: 1 to 8 (7 loads a date before the one it depends on), or
 * `ORDER_OF_RUNS_SEEDS` (`9-60` or `5,9`) to search more orders by hand; a failing seed replays
 * the same sequence. Seeds 1 to 60 passed on 2026-12-07.
 */
function sequenceSeeds(): number[] {
  const asked = process.env.ORDER_OF_RUNS_SEEDS;
  if (!asked) return [1, 2, 3, 4, 5, 6, 7, 8];
  return asked.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (!Number.isInteger(from) || !Number.isInteger(to) || to! < from!)
      throw new Error(`ORDER_OF_RUNS_SEEDS: "${part}" is not a seed or a range of seeds (4-40)`);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

/** One load: a date with its original input, or with the corrected one (CORRECTED only). */
interface Load {
  readonly date: string;
  readonly corrected: boolean;
}

/**
 * A random sequence whose last load of every date uses its final input: a shuffled order (so
 * gaps are filled later), a few dates redone with the same files, and CORRECTED loaded first
 * with its original files, later again with the corrected ones.
 */
function sequence(seed: number): Load[] {
  const next = random(seed);
  const order = [...DATES];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const loads: Load[] = order.map((date) => ({ date, corrected: false }));
  for (let redo = 0; redo < 3; redo++) {
    const at = 1 + Math.floor(next() * loads.length);
    const date = loads[Math.floor(next() * at)]!.date;
    loads.splice(at, 0, { date, corrected: false });
  }
  const firstCorrected = loads.findIndex((l) => l.date === CORRECTED);
  const at = firstCorrected + 1 + Math.floor(next() * (loads.length - firstCorrected));
  loads.splice(at, 0, { date: CORRECTED, corrected: true });
  // Only the last load of CORRECTED counts; any later one without the correction would undo it.
  return loads.filter((l, i) => l.date !== CORRECTED || l.corrected || i < at);
}

/**
 * CORRECTED's files as a fix would bring them: one line's quantity changed (its line total and
 * its transaction's total with it), one transaction deleted with its lines, one customer moved,
 * and one product sold that day missing from the day's product file.
 */
function correctFiles(dir: string): void {
  const raw = join(dir, 'raw', CORRECTED);
  const items = readCsv(join(raw, 'transaction_items.csv'));
  const transactions = readCsv(join(raw, 'transactions.csv'));
  const customers = readCsv(join(raw, 'customers.csv'));
  const products = readCsv(join(raw, 'products.csv'));

  const fixed = items.rows[0]!;
  const cents = (v: string): number => Math.round(Number(v) * 100);
  const before = cents(fixed.line_total!);
  fixed.quantity = String(Number(fixed.quantity) + 1);
  const after = Math.round(
    Number(fixed.quantity) * cents(fixed.unit_price!) * (1 - Number(fixed.discount_percentage) / 100),
  );
  fixed.line_total = (after / 100).toFixed(2);
  const owner = transactions.rows.find((t) => t.transaction_id === fixed.transaction_id)!;
  owner.total_amount = ((cents(owner.total_amount!) - before + after) / 100).toFixed(2);

  const dropped = transactions.rows.find((t) => t.transaction_id !== fixed.transaction_id)!;
  const keptItems = items.rows.filter((i) => i.transaction_id !== dropped.transaction_id);
  const keptTransactions = transactions.rows.filter((t) => t !== dropped);

  customers.rows[3]!.city = 'Corrected City';
  const soldProduct = keptItems[keptItems.length - 1]!.product_id;
  const keptProducts = products.rows.filter((p) => p.product_id !== soldProduct);

  writeCsv(join(raw, 'transaction_items.csv'), items.header, keptItems);
  writeCsv(join(raw, 'transactions.csv'), transactions.header, keptTransactions);
  writeCsv(join(raw, 'customers.csv'), customers.header, customers.rows);
  writeCsv(join(raw, 'products.csv'), products.header, keptProducts);
}

interface Build {
  readonly checksums: Record<string, string>;
  readonly exports: Record<string, string>;
}

/** Each database's in-order build, so that the embedded one is compared with PostgreSQL's. */
const inOrderOn = new Map<string, Build>();
const noPostgres = await postgresUnavailable();

for (const kind of ['postgres', 'embedded'] as const) {
  describe(
    `any order of runs gives the in-order warehouse (${kind})`,
    { skip: kind === 'postgres' && noPostgres },
    () => {
      const original = mkdtempSync(join(tmpdir(), 'order-original-'));
      const corrected = mkdtempSync(join(tmpdir(), 'order-corrected-'));
      const databases: TestBed[] = [];
      let inOrder: Build;

      async function build(loads: readonly Load[]): Promise<Build> {
        const test = await dayBed(kind);
        databases.push(test);
        const dataDir = mkdtempSync(join(tmpdir(), 'order-build-'));
        // A date whose sales refer to members or transactions that only an earlier date's files hold
        // fails the gate while that date is not loaded (docs/operations.md, "Limits"); a backfill over
        // the dates runs it again afterwards, with the dates that have no success, oldest first.
        const loaded = new Set<string>();
        const waiting = new Map<string, boolean>();
        const load = async (date: string, fixed: boolean) => {
          placeInput(fixed ? corrected : original, dataDir, date);
          await runDay(test, dataDir, date);
          loaded.add(date);
          waiting.delete(date);
        };
        try {
          for (const { date, corrected: fixed } of loads) {
            try {
              await load(date, fixed);
            } catch (error) {
              const earlierMissing = DATES.some((d) => d < date && !loaded.has(d));
              if (!earlierMissing || !/quality gate closed.*_orphan_/.test(String(error))) throw error;
              waiting.set(date, fixed);
            }
          }
          for (const [date, fixed] of [...waiting].sort(([a], [b]) => a.localeCompare(b)))
            await load(date, fixed);
          return { checksums: await stateChecksums(test.db), exports: exportsOf(dataDir) };
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }

      before(async () => {
        const scratch = await dayBed(kind);
        databases.push(scratch);
        await generateDays(scratch, original, FULL_LOAD, DAILY, GENERATION);
        await generateDays(scratch, corrected, FULL_LOAD, [CORRECTED], GENERATION);
        correctFiles(corrected);
        inOrder = await build(DATES.map((date) => ({ date, corrected: date === CORRECTED })));
        inOrderOn.set(kind, inOrder);
      });
      after(async () => {
        for (const test of databases) await test.dispose();
        rmSync(original, { recursive: true, force: true });
        rmSync(corrected, { recursive: true, force: true });
      });

      it('loads the in-order build with history, withdrawals and every export', () => {
        // The comparisons below are only as strong as what the in-order build holds.
        const count = (table: string): number => Number(inOrder.checksums[table]!.split(':')[0]);
        assert.ok(count('warehouse.fact_sales') > 800, 'facts');
        assert.ok(
          count('warehouse.dim_customers') > count('production.customers'),
          'customer versions beyond one per customer',
        );
        assert.ok(
          count('warehouse.dim_products') > count('production.products'),
          'product versions beyond one per product',
        );
        assert.ok(count('production.customer_history') > count('production.customers'), 'customer history');
        assert.equal(Object.keys(inOrder.exports).length, 10);
      });

      if (kind === 'embedded')
        it('builds what PostgreSQL builds from the same files', (t) => {
          const onPostgres = inOrderOn.get('postgres');
          if (!onPostgres) return t.skip('no PostgreSQL build to compare with');
          assert.deepEqual(inOrder.checksums, onPostgres.checksums);
          assert.deepEqual(inOrder.exports, onPostgres.exports);
        });

      for (const seed of sequenceSeeds()) {
        const loads = sequence(seed);
        it(`gives the in-order result for sequence ${seed}: ${loads.map((l) => l.date.slice(5) + (l.corrected ? '*' : '')).join(' ')}`, async () => {
          const got = await build(loads);
          assert.deepEqual(got.checksums, inOrder.checksums);
          assert.deepEqual(got.exports, inOrder.exports);
        });
      }
    },
  );
}
