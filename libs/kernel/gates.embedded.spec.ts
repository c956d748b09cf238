import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { freshEmbedded, type TestDatabase } from '../../test/support/databases.js';
import { testRunService } from '../../test/support/kernel.js';
import { Stage } from './stage.decorator.js';
import type { PipelineStage, StageContext, StageResult } from './stage.js';

const seen: string[] = [];

@Injectable()
@Stage({ name: 'check', description: 'a gate that passes' })
class CheckStage implements PipelineStage {
  async run(): Promise<StageResult> {
    seen.push('check started');
    // Long enough that a load started alongside would be seen starting before this ends.
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen.push('check finished');
    return {};
  }
}

@Injectable()
@Stage({ name: 'load', description: 'gated by check', dependsOn: ['check'], gatedBy: ['check'] })
class LoadStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    seen.push('load started');
    await ctx.db.transaction(async (tx) => {
      await tx.query('SELECT 1');
    });
    return {};
  }
}

describe('a gated stage on the embedded database', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshEmbedded();
  });
  after(async () => {
    await t?.dispose();
  });

  it('runs after its gate: one connection cannot hold a transaction open for a gate that needs it', async () => {
    const { service } = testRunService(t.db, [new CheckStage(), new LoadStage()]);
    const report = await service.run({ trigger: 'api', runDate: '2025-05-01' });
    assert.equal(report.status, 'succeeded', report.error ?? '');
    assert.deepEqual(seen, ['check started', 'check finished', 'load started']);
  });
});
