import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Stage, type PipelineStage, type StageContext, type StageResult } from '@pipeline/kernel';
import { dataGenerationConfigSchema, type DataGenerationSettings } from './data-generation.config.js';
import { generateDataset, generationMode, METADATA_FILE, RAW_FILES } from './generate-dataset.js';

/** Writes synthetic e-commerce CSV files into the raw folder (full data set or one day's increment). */
@Stage({
  name: 'data-generation',
  description: 'Generates seeded synthetic customers, products, transactions and items as raw CSV files',
  phase: 'main',
  config: { key: 'data_generation', schema: dataGenerationConfigSchema },
})
export class DataGenerationStage implements PipelineStage<DataGenerationSettings> {
  async run(ctx: StageContext<DataGenerationSettings>): Promise<StageResult> {
    const started = performance.now();
    const settings = ctx.settings;
    const mode = generationMode(settings, ctx.runDate, ctx.succeededBefore);
    ctx.logger.info('generating raw data', {
      mode,
      // `auto` decides by the latest earlier date generated: the log says which.
      ...(settings.mode === 'auto' ? { configured: 'auto', succeededBefore: ctx.succeededBefore } : {}),
      seed: settings.seed,
      runDate: ctx.runDate,
    });
    // Each business date's input has a folder of its own (ingestion README, "Inputs by business date").
    const rawDir = join(ctx.paths.own, ctx.runDate);
    const { metadata, files, workers } = await generateDataset({
      settings,
      runDate: ctx.runDate,
      succeededBefore: ctx.succeededBefore,
      rawDir,
      signal: ctx.signal,
      beforePublish: () => ctx.checkpoint('data-generation:before-publish'),
    });
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    const rows = [
      RAW_FILES.customers,
      RAW_FILES.products,
      RAW_FILES.transactions,
      RAW_FILES.transactionItems,
    ].map((file) => ({
      table: file.table,
      written: files.find((f) => f.name === file.name)!.rows,
    }));
    const paths = [...files.map((f) => f.name), METADATA_FILE].map((name) =>
      relative(ctx.paths.root, join(rawDir, name)),
    );
    ctx.logger.info('raw data written', { ...metadata.record_counts, workers, seconds });
    return {
      rows,
      files: paths,
      details: {
        mode: metadata.mode,
        seed: metadata.seed,
        as_of: metadata.as_of,
        date_range: metadata.date_range,
        counts: metadata.record_counts,
        id_ranges: metadata.id_ranges,
        daily: metadata.daily,
        files: paths,
        workers,
        seconds,
      },
    };
  }
}
