import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { freshEmbedded, type TestDatabase } from '../../test/support/databases.js';
import { gate, metricValue, testRunService, type Gate } from '../../test/support/kernel.js';
import { RunLockedError } from './run.service.js';
import { Stage } from './stage.decorator.js';
import type { PipelineStage, StageResult } from './stage.js';

const hold: { gate: Gate | null } = { gate: null };

@Injectable()
@Stage({ name: 'hold', description: 'waits until the test opens its gate' })
class HoldStage implements PipelineStage {
  async run(): Promise<StageResult> {
    await hold.gate?.promise;
    return {};
  }
}

describe('the run lock on the embedded database', () => {
  let t: TestDatabase;

  before(async () => {
    t = await freshEmbedded();
  });
  after(async () => {
    await t?.dispose();
  });

  it('lets one of two kernels on the same database run; the other gets RunLockedError and counts it', async () => {
    const a = testRunService(t.db, [new HoldStage()]);
    const b = testRunService(t.db, [new HoldStage()]);
    hold.gate = gate();
    const first = await a.service.start({ trigger: 'api', runDate: '2025-04-01' });
    await assert.rejects(b.service.start({ trigger: 'api', runDate: '2025-04-01' }), RunLockedError);
    assert.equal(await metricValue(b.metrics.lockContended), 1);
    hold.gate.open();
    assert.equal((await first.done).status, 'succeeded');
    assert.equal((await b.service.run({ trigger: 'api', runDate: '2025-04-01' })).status, 'succeeded');
  });
});
