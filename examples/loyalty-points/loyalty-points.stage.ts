import { Stage, sqlFile, type PipelineStage, type StageContext, type StageResult } from '@pipeline/kernel';
import { pointsAwardedGauge } from './loyalty.metrics.js';

/** What a customer pays for one point. A constant of the programme, not of a deployment. */
const SPEND_PER_POINT = 10;

// From dist/ back to the SQL the package ships beside its sources.
const sql = (name: string): string => sqlFile(import.meta.url, `../sql/${name}`);

/**
 * Loyalty points per customer and business date, from the warehouse's facts. It reads the
 * warehouse's tables, so it depends on the warehouse stage: it runs after it, and is skipped when
 * the warehouse fails. Running it again for a date leaves the same table: the dates up to the
 * run's business date are deleted and recomputed in one transaction.
 */
@Stage({
  name: 'loyalty-points',
  description: 'Awards loyalty points per customer and business date from the warehouse facts',
  dependsOn: ['warehouse'],
})
export class LoyaltyPointsStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    const { removed, written, points, held } = await ctx.db.transaction(async (tx) => {
      const cleared = await tx.query(sql('clear-points.sql'), [ctx.runDate]);
      const awarded = await tx.query<{ rows: number; points: string }>(sql('award-points.sql'), [
        ctx.runDate,
        SPEND_PER_POINT,
      ]);
      const total = await tx.query<{ points: string }>(sql('points-held.sql'));
      return {
        removed: cleared.rowCount ?? 0,
        written: awarded.rows[0]!.rows,
        points: Number(awarded.rows[0]!.points),
        held: Number(total.rows[0]!.points),
      };
    });
    // Set after COMMIT: a rolled-back run leaves the gauge at what the table still holds.
    ctx.metrics.get(pointsAwardedGauge).set(held);
    return {
      rows: [{ table: 'loyalty.customer_points', written }],
      details: {
        rows_replaced: removed,
        points_awarded: points,
        points_held: held,
        spend_per_point: SPEND_PER_POINT,
      },
    };
  }
}
