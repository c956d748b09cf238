import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Secret } from '../config/index.js';
import { databaseKinds, type TestDatabase } from '../../test/support/databases.js';
import { testRunService } from '../../test/support/kernel.js';
import {
  RetryableError,
  Stage,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '../kernel/index.js';
import { readRunLog, RunLogSink } from './run-log-sink.js';

const TOKEN = 'run-log-secret-token';

/** Logs numbered lines on each attempt; the first attempt fails after its lines. */
@Injectable()
@Stage({
  name: 'chatty',
  description: 'logs 50 numbered lines an attempt',
  retry: { attempts: 2, baseDelayMs: 1 },
})
class ChattyStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    for (let line = 1; line <= 50; line++) ctx.logger.info(`line ${line}`, { line });
    ctx.logger.debug('details nobody asked for');
    ctx.logger.warn(`connecting with token ${TOKEN}`, {
      authorization: `Bearer ${TOKEN}`,
      nested: { TOKEN },
    });
    if (ctx.attempt === 1) throw new RetryableError('first attempt fails');
    return {};
  }
}

for (const { kind, skip, open } of databaseKinds) {
  describe(`a run's own log (${kind})`, { skip }, () => {
    let t: TestDatabase;
    let runId: string;
    before(async () => {
      t = await open();
      const k = testRunService(t.db, [new ChattyStage()], {
        config: { http: { api_token: TOKEN }, logging: { level: 'debug' } },
      });
      runId = (await k.service.run({ trigger: 'cli', runDate: '2025-05-01' })).run_id;
    });
    after(async () => t?.dispose());

    it('gives back every line of one stage attempt, complete and in the order written', async () => {
      for (const attempt of [1, 2]) {
        const lines = await readRunLog(t.db.pool, runId, { stage: 'chatty', attempt, level: 'info' });
        const numbered = lines.filter((l) => l.message.startsWith('line '));
        assert.deepEqual(
          numbered.map((l) => l.message),
          Array.from({ length: 50 }, (_, i) => `line ${i + 1}`),
        );
        // The stage's logger names its plugin on every line (the test's stage is a plugin of its own).
        assert.deepEqual(numbered[0]!.fields, { line: 1, plugin: 'ChattyStage' });
        assert.ok(lines.every((l) => l.stage === 'chatty' && l.attempt === attempt));
      }
      const all = await readRunLog(t.db.pool, runId);
      assert.deepEqual(
        all.map((l) => l.seq),
        all.map((_, i) => i + 1),
        'numbered without gaps',
      );
      assert.equal(all[0]!.message, 'run started');
      assert.equal(all.at(-1)!.message, 'run finished');
      assert.ok(all.some((l) => l.message === 'stage attempt failed; retrying' && l.stage === 'chatty'));
    });

    it('filters by level: that level and above', async () => {
      const warnings = await readRunLog(t.db.pool, runId, { stage: 'chatty', level: 'warn' });
      assert.ok(warnings.length >= 2);
      assert.ok(warnings.every((l) => l.level === 'warn' || l.level === 'error'));
      const debug = await readRunLog(t.db.pool, runId, { stage: 'chatty', level: 'debug' });
      assert.ok(debug.some((l) => l.message === 'details nobody asked for'));
    });

    it('never keeps a secret, in the message or anywhere in the fields', async () => {
      const { rows } = await t.db.pool.query<{ text: string }>(
        `SELECT message || ' ' || coalesce(fields::text, '') AS text FROM pipeline.run_logs WHERE run_id = $1`,
        [runId],
      );
      assert.ok(rows.some((r) => r.text.includes('connecting with token [redacted]')));
      assert.ok(rows.every((r) => !r.text.includes(TOKEN)));
    });

    it('keeps a bounded number of lines a run and says how many more there were', async () => {
      const sink = new RunLogSink(t.db.pool, runId, [new Secret(TOKEN)], {
        maxLines: 1000 + 3,
        maxMessageChars: 20,
        maxFieldsChars: 40,
        flushEveryMs: 10,
      });
      // The run above, its lines cleared: a sink numbers its lines from 1.
      await t.db.pool.query(`DELETE FROM pipeline.run_logs WHERE run_id = $1`, [runId]);
      for (let i = 0; i < 1010; i++) sink.append('info', `message ${i} ${'x'.repeat(40)}`, { i });
      sink.append('info', 'big fields', { blob: 'y'.repeat(100) });
      await sink.close();
      const lines = await readRunLog(t.db.pool, runId);
      assert.equal(lines.length, 1004);
      assert.equal(lines[0]!.message, 'message 0 xxxxxxxxxx');
      assert.equal(lines.at(-1)!.message, '8 further log lines of this run were not kept (limit 1003 a run)');
    });

    it('goes with its run when the run record is pruned', async () => {
      await t.db.pool.query(`DELETE FROM pipeline.runs WHERE id = $1`, [runId]);
      assert.deepEqual(await readRunLog(t.db.pool, runId), []);
    });
  });
}
