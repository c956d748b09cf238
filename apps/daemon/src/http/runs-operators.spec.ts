import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import request from 'supertest';
import type { Response } from 'supertest';
import {
  PermanentError,
  Stage,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '../../../../libs/kernel/index.js';
import { postgresAvailable, type TestDatabase } from '../../../../test/support/databases.js';
import { gate, type Gate } from '../../../../test/support/kernel.js';
import type { Daemon } from '../serve.js';
import { testDaemon } from '../../../../test/support/http-daemon.js';

const TOKEN = 'operators-token-123';
const UNKNOWN = '7d9f0f3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const hooks: { fail: boolean; hold: Gate | null } = { fail: false, hold: null };

@Injectable()
@Stage({ name: 'op-extract', description: 'extracts' })
class ExtractStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    ctx.logger.info('extracting', { runDate: ctx.runDate });
    await hooks.hold?.promise;
    return { rows: [{ table: 'op.extracted', read: 3, written: 3 }] };
  }
}

@Injectable()
@Stage({ name: 'op-load', description: 'loads; fails when the test says so', dependsOn: ['op-extract'] })
class LoadStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    for (let i = 1; i <= 3; i++) ctx.logger.info(`loading part ${i}`);
    if (hooks.fail) throw new PermanentError('op.loaded: row 7 has no key');
    return { rows: [{ table: 'op.loaded', written: 3 }] };
  }
}

@Injectable()
@Stage({ name: 'op-monitor', description: 'reports', phase: 'finally' })
class MonitorStage implements PipelineStage {
  async run(): Promise<StageResult> {
    return {};
  }
}

function assertJsonError(res: Response, status: number, message?: RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(res.body.statusCode, status);
  if (message) assert.match(res.body.message as string, message);
}

describe(`operators' endpoints (${postgresAvailable ? 'postgres' : 'embedded'})`, () => {
  let t: TestDatabase;
  let daemon: Daemon;
  let http: ReturnType<typeof request>;
  const ids: Record<'ok' | 'failed' | 'older', string> = { ok: '', failed: '', older: '' };

  const waitForEnd = async (runId: string): Promise<Record<string, unknown>> => {
    for (let i = 0; i < 400; i++) {
      const res = await http.get(`/runs/${runId}`);
      if (res.status === 200 && res.body.status !== 'running' && daemon.kernel.runs.current === null)
        return res.body as Record<string, unknown>;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`run ${runId} did not finish`);
  };
  const start = async (body: object): Promise<string> => {
    const res = await http.post('/runs').set('Authorization', `Bearer ${TOKEN}`).send(body);
    assert.equal(res.status, 202, res.text);
    return res.body.run_id as string;
  };
  const control = (path: string) => http.post(path).set('Authorization', `Bearer ${TOKEN}`);

  before(async () => {
    ({ daemon, t } = await testDaemon({
      token: TOKEN,
      stages: [ExtractStage, LoadStage, MonitorStage],
      pipeline: { heartbeat_interval_ms: 200 },
    }));
    http = request(daemon.app.getHttpServer());
    const today = new Date().toISOString().slice(0, 10);
    ids.older = await start({ run_date: '2025-01-01' });
    await waitForEnd(ids.older);
    ids.ok = await start({ run_date: today });
    await waitForEnd(ids.ok);
    hooks.fail = true;
    ids.failed = await start({ run_date: today });
    await waitForEnd(ids.failed);
    hooks.fail = false;
  });
  after(async () => {
    await daemon?.stop().catch(() => undefined);
    await t?.dispose();
  });

  it('filters the run list by status, trigger, business dates and failed stage, and counts them all', async () => {
    const failed = await http.get('/runs?status=failed');
    assert.equal(failed.status, 200);
    assert.deepEqual(
      failed.body.runs.map((r: { id: string }) => r.id),
      [ids.failed],
    );
    assert.equal(failed.body.total, 1);
    assert.deepEqual(failed.body.runs[0].failed_stages, ['op-load']);
    const byStage = await http.get('/runs?failed_stage=op-load&trigger=api');
    assert.deepEqual(
      byStage.body.runs.map((r: { id: string }) => r.id),
      [ids.failed],
    );
    assert.equal((await http.get('/runs?failed_stage=op-extract')).body.total, 0);
    const old = await http.get('/runs?run_date_from=2024-12-31&run_date_to=2025-01-01');
    assert.deepEqual(
      old.body.runs.map((r: { id: string }) => r.id),
      [ids.older],
    );
    assert.equal((await http.get('/runs?trigger=schedule')).body.total, 0);
  });

  it('pages through the runs newest first without repeating or skipping one', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 3; offset++) {
      const page = await http.get(`/runs?limit=1&offset=${offset}`);
      assert.equal(page.body.total, 3);
      assert.equal(page.body.runs.length, 1);
      seen.push(page.body.runs[0].id as string);
    }
    assert.deepEqual(seen, [ids.failed, ids.ok, ids.older]);
    assert.deepEqual((await http.get('/runs?limit=1&offset=3')).body.runs, []);
  });

  it('pages by cursor without repeating a run when another starts between two pages', async () => {
    const first = await http.get('/runs?limit=2');
    assert.deepEqual(
      first.body.runs.map((r: { id: string }) => r.id),
      [ids.failed, ids.ok],
    );
    assert.match(first.body.next_before as string, /^\d+_[0-9a-f-]{36}$/);
    const started = 'c0ffee00-0000-4000-8000-000000000001';
    await t.db.pool.query(
      `INSERT INTO pipeline.runs (id, trigger, run_date, status, owner, host, pid, code_version, config_hash)
       VALUES ($1, 'api', '2025-01-02', 'succeeded', 'o', 'h', 1, 'test', 'x')`,
      [started],
    );
    try {
      const second = await http.get(`/runs?limit=2&before=${first.body.next_before as string}`);
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(
        second.body.runs.map((r: { id: string }) => r.id),
        [ids.older],
      );
      assert.equal(second.body.next_before, null, 'the last page');
      assert.equal(second.body.total, 4);
      const byOffset = await http.get('/runs?limit=2&offset=2');
      assert.deepEqual(
        byOffset.body.runs.map((r: { id: string }) => r.id),
        [ids.ok, ids.older],
        'where an offset shows a run of the page before again',
      );
    } finally {
      await t.db.pool.query(`DELETE FROM pipeline.runs WHERE id = $1`, [started]);
    }
    assertJsonError(await http.get('/runs?before=yesterday'), 400, /^before: /);
    assertJsonError(
      await http.get(`/runs?offset=1&before=${first.body.next_before as string}`),
      400,
      /either "before" or "offset"/,
    );
  });

  it('answers a bad filter with a JSON 400 naming the field', async () => {
    assertJsonError(await http.get('/runs?status=finished'), 400, /^status: /);
    assertJsonError(await http.get('/runs?run_date_from=2025-13-01'), 400, /^run_date_from: /);
    assertJsonError(await http.get('/runs?run_date_from=2025-02-01&run_date_to=2025-01-01'), 400, /after/);
    assertJsonError(await http.get('/runs?failed_stage=DROP%20TABLE'), 400, /^failed_stage: /);
    assertJsonError(await http.get('/runs?colour=blue'), 400, /unknown field "colour"/);
  });

  it("shows one run's stages with their attempts, durations, rows and errors", async () => {
    const res = await http.get(`/runs/${ids.failed}`);
    assert.equal(res.status, 200);
    type StageBody = {
      status: string;
      rows: unknown;
      attempt_history: Array<{ outcome: string; error: string | null; duration_ms: number }>;
    };
    const [extract, load, monitor] = res.body.stages as StageBody[];
    assert.deepEqual(extract!.rows, [{ table: 'op.extracted', read: 3, written: 3 }]);
    assert.equal(extract!.attempt_history.length, 1);
    assert.equal(extract!.attempt_history[0]!.outcome, 'succeeded');
    assert.equal(typeof extract!.attempt_history[0]!.duration_ms, 'number');
    assert.equal(load!.status, 'failed');
    assert.deepEqual(
      load!.attempt_history.map((a) => [a.outcome, a.error]),
      [['failed', 'op.loaded: row 7 has no key']],
    );
    assert.equal(monitor!.status, 'succeeded');
    assert.equal(res.body.error, 'op-load: op.loaded: row 7 has no key');
  });

  it("serves a stage's log lines as JSON lines, complete and in order", async () => {
    const res = await http.get(`/runs/${ids.failed}/logs?stage=op-load&attempt=1`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/x-ndjson/);
    const lines = res.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message: string; stage: string; attempt: number; seq: number });
    assert.deepEqual(
      lines.filter((l) => l.message.startsWith('loading')).map((l) => l.message),
      ['loading part 1', 'loading part 2', 'loading part 3'],
    );
    assert.ok(lines.every((l) => l.stage === 'op-load' && l.attempt === 1));
    assert.deepEqual(
      lines.map((l) => l.seq),
      [...lines.map((l) => l.seq)].sort((a, b) => a - b),
    );
    const errors = await http.get(`/runs/${ids.failed}/logs?level=error`);
    assert.ok(
      errors.text
        .trim()
        .split('\n')
        .every((l) => JSON.parse(l).level === 'error'),
    );
    assertJsonError(await http.get(`/runs/${UNKNOWN}/logs`), 404, /no run/);
    assertJsonError(await http.get(`/runs/${ids.failed}/logs?attempt=0`), 400, /^attempt: /);
    assertJsonError(await http.get(`/runs/${ids.failed}/logs?level=loud`), 400, /^level: /);
  });

  it('serves the log a page at a time: Next-After leads to the next page until the last', async () => {
    const whole = await http.get(`/runs/${ids.failed}/logs`);
    assert.equal(whole.headers['next-after'], undefined, 'one page holds it all');
    const all = whole.text.trim().split('\n');
    assert.ok(all.length > 6);
    const paged: string[] = [];
    let after = 0;
    for (;;) {
      const res = await http.get(`/runs/${ids.failed}/logs?limit=3&after=${after}`);
      assert.equal(res.status, 200);
      const lines = res.text.trim().split('\n');
      assert.ok(lines.length <= 3);
      paged.push(...lines);
      const next = res.headers['next-after'] as string | undefined;
      if (next === undefined) break;
      assert.equal(Number(next), (JSON.parse(lines.at(-1)!) as { seq: number }).seq);
      after = Number(next);
    }
    assert.deepEqual(paged, all);
    assertJsonError(await http.get(`/runs/${ids.failed}/logs?limit=0`), 400, /^limit: /);
    assertJsonError(await http.get(`/runs/${ids.failed}/logs?limit=10001`), 400, /^limit: /);
    assertJsonError(await http.get(`/runs/${ids.failed}/logs?after=-1`), 400, /^after: /);
  });

  it('refuses cancel and retry without a token, for unknown runs and for runs in the wrong state', async () => {
    assertJsonError(await http.post(`/runs/${ids.failed}/cancel`), 401);
    assertJsonError(await http.post(`/runs/${ids.failed}/retry`), 401);
    assertJsonError(await control(`/runs/${UNKNOWN}/cancel`), 404, /no run/);
    assertJsonError(await control(`/runs/${UNKNOWN}/retry`), 404, /no run/);
    assertJsonError(await control('/runs/not-a-uuid/cancel'), 400, /UUID/);
    // Recorded running, but its process stopped long ago: nobody would read a request.
    const abandoned = 'c0ffee00-0000-4000-8000-00000000dead';
    await t.db.pool.query(
      `INSERT INTO pipeline.runs (id, trigger, run_date, status, owner, host, pid, code_version, config_hash, heartbeat_at)
       VALUES ($1, 'api', '2025-01-03', 'running', 'gone', 'h', 1, 'test', 'x', now() - interval '1 hour')`,
      [abandoned],
    );
    try {
      assertJsonError(await control(`/runs/${abandoned}/cancel`), 409, /is abandoned: its process stopped/);
    } finally {
      await t.db.pool.query(`DELETE FROM pipeline.runs WHERE id = $1`, [abandoned]);
    }
    assertJsonError(await control(`/runs/${ids.ok}/cancel`), 409, /is succeeded, not running/);
    assertJsonError(await control(`/runs/${ids.ok}/retry`), 422, /nothing to retry/);
    assertJsonError(await control(`/runs/${ids.failed}/retry?dry_run=maybe`), 400, /^dry_run: /);
  });

  it('retries a failed run from its failed stage; a dry run only says what it would run', async () => {
    const dry = await control(`/runs/${ids.failed}/retry?dry_run=true`);
    assert.equal(dry.status, 200, dry.text);
    assert.deepEqual(dry.body.stages, ['op-load', 'op-monitor']);
    assert.equal(dry.body.from, 'op-load');
    assert.equal((await http.get('/runs')).body.total, 3, 'a dry run starts nothing');
    const res = await control(`/runs/${ids.failed}/retry`);
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.body.stages, ['op-load', 'op-monitor']);
    const retried = await waitForEnd(res.body.run_id as string);
    assert.equal(retried.status, 'succeeded');
    assert.equal(retried.resumed_from, ids.failed);
  });

  it('cancels a running run (202), answers 409 to a retry meanwhile, and the run ends cancelled', async () => {
    hooks.hold = gate();
    const runId = await start({});
    try {
      assertJsonError(await control(`/runs/${ids.failed}/retry`), 409, /run lock is held/);
      const res = await control(`/runs/${runId}/cancel`);
      assert.equal(res.status, 202, res.text);
      assert.equal(res.body.already_requested, false);
      const ended = await waitForEnd(runId);
      assert.equal(ended.status, 'cancelled');
      assert.ok(ended.cancel_requested_at);
      assertJsonError(await control(`/runs/${runId}/cancel`), 409, /is cancelled, not running/);
      const cancelled = await http.get('/runs?status=cancelled');
      assert.deepEqual(
        cancelled.body.runs.map((r: { id: string }) => r.id),
        [runId],
      );
    } finally {
      hooks.hold.open();
      hooks.hold = null;
    }
    const metrics = await http.get('/metrics');
    assert.match(metrics.text, /pipeline_runs_total\{status="cancelled"\} 1/);
  });
});
