import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { dataGenerationConfigSchema } from './data-generation.config.js';
import {
  generateDataset,
  METADATA_FILE,
  RAW_FILES,
  type GenerationOutcome,
  type GenerationTuning,
} from './generate-dataset.js';
import { cpuQuotaOf, MIN_TRANSACTIONS_FOR_WORKERS, workersFor } from './transaction-workers.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'generation-workers-spec-'));
  dirs.push(dir);
  return dir;
};

const SMALL = { customers: 300, products: 120, transactions: 2_000 };
/** Workers even for a small data set, and many chunks out of it. */
const FORCED = { minTransactionsForWorkers: 0, chunkTransactions: 97 } satisfies GenerationTuning;

interface Run {
  readonly dir: string;
  readonly outcome: GenerationOutcome;
}

async function generate(
  config: Record<string, unknown>,
  options: { runDate?: string; tuning?: GenerationTuning; dir?: string; signal?: AbortSignal } = {},
): Promise<Run> {
  const dir = options.dir ?? freshDir();
  const outcome = await generateDataset({
    settings: dataGenerationConfigSchema.parse({ ...SMALL, ...config }),
    runDate: options.runDate ?? '2025-01-01',
    rawDir: dir,
    signal: options.signal ?? new AbortController().signal,
    tuning: options.tuning ?? FORCED,
  });
  return { dir, outcome };
}

/** Every file of the folder, metadata included, as sha256. */
const filesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [
        name,
        createHash('sha256')
          .update(readFileSync(join(dir, name)))
          .digest('hex'),
      ]),
  );

const transactionsOf = (dir: string) =>
  parse(readFileSync(join(dir, RAW_FILES.transactions.name), 'utf8'), { columns: true }) as Array<
    Record<string, string>
  >;

async function assertSameBytesForEveryWorkerCount(
  config: Record<string, unknown>,
  runDate?: string,
): Promise<Run> {
  const onMainThread = await generate({ ...config, workers: 0 }, { ...(runDate ? { runDate } : {}) });
  assert.equal(onMainThread.outcome.workers, 0);
  for (const workers of [1, 2, 3]) {
    const inWorkers = await generate({ ...config, workers }, { ...(runDate ? { runDate } : {}) });
    assert.equal(inWorkers.outcome.workers, workers, 'the workers were used');
    assert.deepEqual(filesOf(inWorkers.dir), filesOf(onMainThread.dir), `${workers} workers`);
  }
  return onMainThread;
}

describe('generation in worker threads', () => {
  it('writes the same bytes with 0, 1, 2 or 3 workers in full mode, days packed into chunks', async () => {
    const { outcome } = await assertSameBytesForEveryWorkerCount({});
    assert.equal(outcome.metadata.record_counts.transactions, 2_000);
  });

  it('writes the same bytes with 0, 1, 2 or 3 workers when days are larger than a chunk', async () => {
    const { dir } = await assertSameBytesForEveryWorkerCount({ start_date: '2024-12-01' });
    // About 65 transactions a day, 97 to a chunk: most days are cut between two chunks.
    let previous = '';
    for (const t of transactionsOf(dir)) {
      const stamp = `${t.transaction_date} ${t.transaction_time}`;
      assert.ok(stamp >= previous, `${t.transaction_id} at ${stamp} is before ${previous}`);
      previous = stamp;
    }
  });

  it('writes the same bytes with 0, 1, 2 or 3 workers in daily mode, the day cut into chunks', async () => {
    const { dir, outcome } = await assertSameBytesForEveryWorkerCount(
      { mode: 'daily', daily: { transactions: 500 } },
      '2025-01-03',
    );
    assert.ok(outcome.metadata.record_counts.transactions > 97 * 3);
    assert.deepEqual([...new Set(transactionsOf(dir).map((t) => t.transaction_date))], ['2025-01-03']);
  });

  it('generates on the main thread below the threshold, and starts no more workers than chunks', async () => {
    const small = await generate({ workers: 2 }, { tuning: { minTransactionsForWorkers: 2_001 } });
    assert.equal(small.outcome.workers, 0);
    const twoChunks = await generate({ workers: 3 }, { tuning: { ...FORCED, chunkTransactions: 1_000 } });
    assert.equal(twoChunks.outcome.workers, 2, 'no more workers than chunks');
  });

  it('stops every worker and publishes nothing when the run is aborted mid-way', async () => {
    const dir = freshDir();
    await generate({ workers: 0 }, { dir });
    const before = filesOf(dir);
    const controller = new AbortController();
    const workers: Worker[] = [];
    const exited = new Set<Worker>();
    const onWorker = (worker: Worker) => {
      workers.push(worker);
      worker.once('exit', () => exited.add(worker));
      // The first chunk back means the workers are busy with the next ones.
      worker.once('message', () => controller.abort(new Error('shutdown')));
    };
    await assert.rejects(
      generate(
        { workers: 2, transactions: 20_000, seed: 9 },
        { dir, signal: controller.signal, tuning: { ...FORCED, onWorker } },
      ),
      /shutdown/,
    );
    assert.equal(workers.length, 2);
    assert.equal(exited.size, 2, 'every worker has exited by the time the run fails');
    assert.deepEqual(filesOf(dir), before, 'the previous files are untouched and no .tmp is left');
  });

  it('fails with a message naming the chunk when a worker dies, leaving the previous files in place', async () => {
    const dir = freshDir();
    await generate({ workers: 0 }, { dir });
    const before = filesOf(dir);
    const workers: Worker[] = [];
    const exited = new Set<Worker>();
    const onWorker = (worker: Worker) => {
      workers.push(worker);
      worker.once('exit', () => exited.add(worker));
    };
    // A heap too small for even one chunk: the worker is killed the way a runaway one would be.
    const workerResourceLimits = { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 };
    await assert.rejects(
      generate({ workers: 2, seed: 5 }, { dir, tuning: { ...FORCED, workerResourceLimits, onWorker } }),
      /^Error: data-generation: the worker generating transaction chunk \d+ \(from TXN\d{5}\) failed: .*memory limit/,
    );
    assert.equal(exited.size, workers.length, 'no worker outlives the failure');
    assert.deepEqual(filesOf(dir), before);
    assert.ok(readdirSync(dir).includes(METADATA_FILE));
  });
});

describe('how many workers', () => {
  it('starts none below the threshold, whatever the setting', () => {
    assert.equal(workersFor(2, MIN_TRANSACTIONS_FOR_WORKERS - 1), 0);
    assert.equal(workersFor('auto', 300), 0);
    assert.equal(workersFor(2, MIN_TRANSACTIONS_FOR_WORKERS), 2);
  });

  it('takes a number as given and `auto` as at most two', () => {
    assert.equal(workersFor(0, 1_000_000), 0);
    assert.equal(workersFor(5, 1_000_000), 5);
    const auto = workersFor('auto', 1_000_000);
    assert.ok(auto === 0 || auto === 2, `auto gave ${auto}`);
  });

  it('reads the CPUs a container may use from cgroup v2 cpu.max', () => {
    assert.equal(cpuQuotaOf('100000 100000\n'), 1);
    assert.equal(cpuQuotaOf('250000 100000'), 2.5);
    assert.equal(cpuQuotaOf('max 100000\n'), null);
    assert.equal(cpuQuotaOf(null), null);
    assert.equal(cpuQuotaOf('garbage'), null);
  });
});
