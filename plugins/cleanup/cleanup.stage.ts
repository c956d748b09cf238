import { join } from 'node:path';
import {
  Stage,
  WrittenFiles,
  sqlFile,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '@pipeline/kernel';
import { retentionSchema, type RetentionSettings } from './cleanup.config.js';
import { applyRetention } from './retention-policy.js';

/**
 * Retention: old raw CSVs, processed exports, quality reports and logs that the pipeline wrote
 * (its manifest, `pipeline.written_files`) are deleted; anything else, summaries, reports and
 * metadata, and anything from the current day, are kept; old run records are pruned.
 */
@Stage({
  name: 'cleanup',
  description: 'Applies the retention policy to data files, logs and run records',
  phase: 'maintenance',
  config: { key: 'retention', schema: retentionSchema },
})
export class CleanupStage implements PipelineStage<RetentionSettings> {
  async run(ctx: StageContext<RetentionSettings>): Promise<StageResult> {
    const { settings, paths } = ctx;
    const files = applyRetention(
      paths.root,
      [
        // The folders of the built-in plugins' files; a file any stage wrote elsewhere is kept.
        { folder: join(paths.root, 'raw'), keepDays: settings.raw_days },
        { folder: join(paths.root, 'processed'), keepDays: settings.processed_days },
        { folder: join(paths.root, 'quality'), keepDays: settings.quality_days },
        { folder: join(paths.root, 'production'), keepDays: settings.processed_days },
        { folder: join(paths.root, 'logs'), keepDays: settings.logs_days },
      ],
      new Date(),
      new WrittenFiles(paths.root, paths.writtenFiles),
    );
    let runsPruned = 0;
    let skipsPruned = 0;
    let quarantinePruned = 0;
    if (settings.runs_days > 0) {
      await ctx.db.transaction(async (tx) => {
        runsPruned =
          (await tx.query(sqlFile(import.meta.url, 'prune-runs.sql'), [settings.runs_days])).rowCount ?? 0;
        skipsPruned =
          (
            await tx.query(`DELETE FROM pipeline.run_skips WHERE at < now() - make_interval(days => $1)`, [
              settings.runs_days,
            ])
          ).rowCount ?? 0;
        quarantinePruned =
          (
            await tx.query(
              `DELETE FROM pipeline.quarantine WHERE created_at < now() - make_interval(days => $1)`,
              [settings.runs_days],
            )
          ).rowCount ?? 0;
        await ctx.checkpoint('cleanup:pruned');
      });
    }
    ctx.logger.info('retention applied', {
      deleted: files.deleted.length,
      kept: files.kept.length,
      runsPruned,
    });
    return {
      rows: [
        { table: 'pipeline.runs', written: runsPruned },
        { table: 'pipeline.run_skips', written: skipsPruned },
        { table: 'pipeline.quarantine', written: quarantinePruned },
      ],
      details: {
        deleted_files: files.deleted,
        kept_files: files.kept,
        bytes_freed: files.bytesFreed,
        runs_pruned: runsPruned,
        skips_pruned: skipsPruned,
        quarantine_rows_pruned: quarantinePruned,
      },
    };
  }
}
