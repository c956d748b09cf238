// Measures the data-generation stage's speed and memory on its own:
//   npm run build && node dist/bench/data-generation.bench.js [transactions] [full|daily] [runDate]
// Prints wall and CPU seconds (CPU is the steadier figure on a shared machine), rows and peak RSS of this process as one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { dataGenerationConfigSchema } from '../plugins/data-generation/data-generation.config.js';
import { generateDataset } from '../plugins/data-generation/generate-dataset.js';

const transactions = Number(process.argv[2] ?? 100_000);
const mode = process.argv[3] ?? 'full';
const runDate = process.argv[4] ?? '2025-01-01';
const dir = mkdtempSync(join(tmpdir(), 'generation-bench-'));
try {
  // In daily mode the number is the day's volume (daily.transactions); the full set keeps its default.
  const settings = dataGenerationConfigSchema.parse(
    mode === 'daily' ? { mode, daily: { transactions } } : { transactions, mode },
  );
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const { metadata } = await generateDataset({
    settings,
    runDate,
    rawDir: dir,
    signal: new AbortController().signal,
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
      counts: metadata.record_counts,
      peakRssMb,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
