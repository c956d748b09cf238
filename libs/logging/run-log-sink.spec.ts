import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { scrubSecrets, Secret } from '../config/index.js';
import { databaseKinds, type TestDatabase } from '../../test/support/databases.js';
import { testRunService } from '../../test/support/kernel.js';
import {
  PermanentError,
  RetryableError,
  Stage,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '../kernel/index.js';
import type pg from 'pg';
import { readRunLog, RunLogSink, type RunLogFilter } from './run-log-sink.js';

const TOKEN = 'run-log-secret-token';

/** Every kept line, read in one page. */
const readAll = async (pool: pg.Pool, runId: string, filter: RunLogFilter = {}) =>
  (await readRunLog(pool, runId, filter, { limit: 1_000_000 })).lines;

/** Logs `lines` numbered lines, then fails: the failure comes after the run's cap is reached. */
@Injectable()
@Stage({ name: 'verbose', description: 'logs many lines, then fails', retry: { attempts: 1 } })
class VerboseStage implements PipelineStage {
  constructor(private readonly lines: number) {}
  async run(ctx: StageContext): Promise<StageResult> {
    for (let line = 1; line <= this.lines; line++) ctx.logger.info(`line ${line}`);
    throw new PermanentError('the last thing that happened');
  }
}

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
        const lines = await readAll(t.db.pool, runId, { stage: 'chatty', attempt, level: 'info' });
        const numbered = lines.filter((l) => l.message.startsWith('line '));
        assert.deepEqual(
          numbered.map((l) => l.message),
          Array.from({ length: 50 }, (_, i) => `line ${i + 1}`),
        );
        // The stage's logger names its plugin on every line (the test's stage is a plugin of its own).
        assert.deepEqual(numbered[0]!.fields, { line: 1, plugin: 'ChattyStage' });
        assert.ok(lines.every((l) => l.stage === 'chatty' && l.attempt === attempt));
      }
      const all = await readAll(t.db.pool, runId);
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
      const warnings = await readAll(t.db.pool, runId, { stage: 'chatty', level: 'warn' });
      assert.ok(warnings.length >= 2);
      assert.ok(warnings.every((l) => l.level === 'warn' || l.level === 'error'));
      const debug = await readAll(t.db.pool, runId, { stage: 'chatty', level: 'debug' });
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

    it('pages through the lines after a sequence number, neither repeating nor skipping one', async () => {
      const all = await readAll(t.db.pool, runId);
      const seen: number[] = [];
      let after = 0;
      for (let pages = 1; ; pages++) {
        const page = await readRunLog(t.db.pool, runId, {}, { after, limit: 7 });
        assert.ok(page.lines.length <= 7);
        seen.push(...page.lines.map((l) => l.seq));
        if (page.nextAfter === null) {
          assert.equal(pages, Math.ceil(all.length / 7));
          break;
        }
        assert.equal(page.nextAfter, page.lines.at(-1)!.seq);
        after = page.nextAfter;
      }
      assert.deepEqual(
        seen,
        all.map((l) => l.seq),
      );
      const filtered = await readRunLog(t.db.pool, runId, { stage: 'chatty', attempt: 2 }, { limit: 10 });
      assert.ok(filtered.lines.every((l) => l.stage === 'chatty' && l.attempt === 2));
      assert.equal(filtered.lines.length, 10);
    });

    it('past the limit keeps the first lines and the newest, with one line saying how many were left out', async () => {
      const sink = new RunLogSink(t.db.pool, runId, (text) => scrubSecrets(text, [new Secret(TOKEN)]), {
        maxLines: 1000,
        maxMessageChars: 20,
        maxFieldsChars: 40,
        flushEveryMs: 10,
      });
      // The run above, its lines cleared: a sink numbers its lines from 1.
      await t.db.pool.query(`DELETE FROM pipeline.run_logs WHERE run_id = $1`, [runId]);
      for (let i = 0; i < 1010; i++) sink.append('info', `message ${i} ${'x'.repeat(40)}`, { i });
      sink.append('info', 'big fields', { blob: 'y'.repeat(100) });
      await sink.close();
      const lines = await readAll(t.db.pool, runId);
      assert.equal(lines.length, 1000, 'the limit');
      // The head: the first 899 lines; the newest tenth (100 lines) after the marker.
      assert.equal(lines[0]!.message, 'message 0 xxxxxxxxxx');
      assert.equal(lines[898]!.message, 'message 898 xxxxxxxx');
      assert.deepEqual([lines[899]!.level, lines[899]!.seq], ['warn', 900]);
      assert.match(
        lines[899]!.message,
        /^12 log lines of this run were left out here: the first 899 and the newest 100 are kept/,
      );
      assert.equal(lines[900]!.message, 'message 911 xxxxxxxx');
      assert.equal(lines[900]!.seq, 913, 'numbered as written: the gap is what was left out');
      assert.equal(lines.at(-1)!.message, 'big fields');
      assert.deepEqual(lines.at(-1)!.fields, { truncated: 'fields of 111 characters were not kept' });
    });

    it('keeps the end of a run that logged past its limit: the failure and "run finished"', async () => {
      const k = testRunService(t.db, [new VerboseStage(1_000)], {
        config: { pipeline: { run_log_max_lines: 200 } },
      });
      const report = await k.service.run({ trigger: 'cli', runDate: '2025-05-02' });
      assert.equal(report.status, 'failed');
      const lines = await readAll(t.db.pool, report.run_id);
      assert.equal(lines.length, 200);
      assert.equal(lines[0]!.message, 'run started');
      const messages = lines.map((l) => l.message);
      assert.ok(messages.some((m) => /^\d+ log lines of this run were left out here/.test(m)));
      assert.ok(messages.includes('stage failed'), 'the failure is kept');
      assert.equal(messages.at(-1), 'run finished');
      assert.ok(messages.includes('line 1000'), 'and the lines just before it');
    });

    it('goes with its run when the run record is pruned', async () => {
      await t.db.pool.query(`DELETE FROM pipeline.runs WHERE id = $1`, [runId]);
      assert.deepEqual(await readAll(t.db.pool, runId), []);
    });
  });
}
