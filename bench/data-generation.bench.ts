// Measures the data-generation stage's speed and memory on its own:
//   npm run build && node dist/bench/data-generation.bench.js [transactions] [full|daily] [runDate] [workers]
// Prints wall and CPU seconds (CPU is the steadier figure on a shared machine), rows, the workers
// used and peak RSS of this process as one JSON line. `workers` is data_generation.workers (auto,
// or a number); with a number the threshold under which the main thread generates anyway is off,
// so that small sizes can be compared too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dataGenerationConfigSchema } from '../plugins/data-generation/data-generation.config.js';
import { generateDataset } from '../plugins/data-generation/generate-dataset.js';

const transactions = Number(process.argv[2] ?? 100_000);
const mode = process.argv[3] ?? 'full';
const runDate = process.argv[4] ?? '2025-01-01';
const workersArg = process.argv[5] ?? 'auto';
const workers = workersArg === 'auto' ? 'auto' : Number(workersArg);
const dir = mkdtempSync(join(tmpdir(), 'generation-bench-'));
try {
  // In daily mode the number is the day's volume (daily.transactions) and the full set keeps its
  // defaults; in full mode customers and products scale as in the pipeline bench (bench.ts).
  const settings = dataGenerationConfigSchema.parse(
    mode === 'daily'
      ? { mode, workers, daily: { transactions } }
      : {
          mode,
          workers,
          transactions,
          customers: Math.max(1000, Math.round(transactions / 10)),
          products: Math.max(500, Math.round(transactions / 20)),
        },
  );
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcome = await generateDataset({
    settings,
    runDate,
    rawDir: dir,
    signal: new AbortController().signal,
    ...(workers === 'auto' ? {} : { tuning: { minTransactionsForWorkers: 0 } }),
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(
    JSON.stringify({
      mode,
      transactions,
      seconds: Number(seconds.toFixed(3)),
      cpuSeconds: Number(cpuSeconds.toFixed(3)),
      counts: outcome.metadata.record_counts,
      workers: outcome.workers,
      peakRssMb,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
