import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import monitoringPlugin from '@pipeline/plugin-monitoring';
import qualityChecksPlugin from '@pipeline/plugin-quality-checks';
import request from 'supertest';
import type { Response } from 'supertest';
import { buildConfig } from '../../../../libs/config/index.js';
import type { Database } from '../../../../libs/database/index.js';
import {
  definePlugin,
  pluginFromModule,
  Stage,
  type KernelRuntime,
  type PipelineStage,
  type StageContext,
  type StageResult,
} from '../../../../libs/kernel/index.js';
import { silentLogger } from '../../../../libs/logging/index.js';
import { PipelineMetrics } from '../../../../libs/metrics/index.js';
import {
  freshEmbedded,
  freshPostgres,
  postgresAvailable,
  type TestDatabase,
} from '../../../../test/support/databases.js';
import { gate, type Gate } from '../../../../test/support/kernel.js';
import { createDaemon, type Daemon } from '../serve.js';
import { CONTRACT_METRIC_NAMES } from '../../../../test/support/contract-metrics.js';

const TOKEN = 'secret-token-123';
const hooks: { hold: Gate | null } = { hold: null };

@Injectable()
@Stage({
  name: 'http-load',
  description: 'loads after extract; waits while the test holds it',
  dependsOn: ['http-extract'],
})
class HttpLoadStage implements PipelineStage {
  async run(): Promise<StageResult> {
    await hooks.hold?.promise;
    return { rows: [{ table: 'kernel_test.loaded', read: 2, written: 2 }] };
  }
}

@Injectable()
@Stage({ name: 'http-extract', description: 'extracts' })
class HttpExtractStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return { details: { run_date: ctx.runDate } };
  }
}

@Injectable()
@Stage({ name: 'http-monitor', description: 'reports on the run', phase: 'finally' })
class HttpMonitorStage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    return { details: { stages_seen: ctx.earlierStages.length } };
  }
}

// Listed out of dependency order on purpose: the registry orders them.
const httpTestPlugin = pluginFromModule('http-test-stages', {
  default: definePlugin({
    name: 'http-test-stages',
    version: '1.0.0',
    kernelApi: '^1.0.0',
    stages: [HttpLoadStage, HttpExtractStage, HttpMonitorStage],
  }),
});

// A deployment's contract metrics include those the built-in plugins own: the test declares them
// as those plugins do, without their stages.
const contractMetricOwners = pluginFromModule('contract-metric-owners', {
  default: definePlugin({
    name: 'contract-metric-owners',
    version: '1.0.0',
    kernelApi: '^1.0.0',
    stages: [],
    metrics: [...(qualityChecksPlugin.metrics ?? []), ...(monitoringPlugin.metrics ?? [])],
  }),
});

function runtimeFor(db: Database, dataDir: string): KernelRuntime {
  return {
    config: buildConfig({
      pipeline: { data_dir: dataDir },
      http: { api_token: TOKEN },
      scheduler: { enabled: false },
    }),
    db,
    logger: silentLogger,
    metrics: new PipelineMetrics(),
    codeVersion: 'test',
    plugins: [httpTestPlugin, contractMetricOwners],
  };
}

/** A client error: JSON with the status and a message, never a stack trace. */
function assertJsonError(res: Response, status: number, message?: RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const body = res.body as { statusCode?: unknown; message?: unknown; stack?: unknown };
  assert.equal(body.statusCode, status);
  assert.equal(typeof body.message, 'string');
  if (message) assert.match(body.message as string, message);
  assert.equal(body.stack, undefined);
  assert.doesNotMatch(res.text, /\bat \S+ \(|node_modules|\.js:\d+:\d+/);
}

describe(`HTTP API (${postgresAvailable ? 'postgres' : 'embedded'})`, () => {
  let t: TestDatabase;
  let daemon: Daemon;
  let degraded: Daemon;
  let dataDir: string;
  let http: ReturnType<typeof request>;

  const waitForRunEnd = async (runId: string): Promise<{ status: string }> => {
    for (let i = 0; i < 200; i++) {
      const res = await http.get(`/runs/${runId}`);
      if (res.status === 200 && res.body.status !== 'running' && daemon.kernel.runs.current === null)
        return res.body as { status: string };
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`run ${runId} did not finish`);
  };
  const post = (body: unknown) =>
    http
      .post('/runs')
      .set('Authorization', `Bearer ${TOKEN}`)
      .send(body as object);

  before(async () => {
    t = postgresAvailable ? await freshPostgres() : await freshEmbedded();
    dataDir = mkdtempSync(join(tmpdir(), 'daemon-data-'));
    daemon = await createDaemon(runtimeFor(t.db, dataDir), { schedule: false });
    http = request(daemon.app.getHttpServer());
    // A data folder below a regular file: mkdir and writes fail whoever we run as (even root).
    const file = join(mkdtempSync(join(tmpdir(), 'daemon-file-')), 'not-a-folder');
    writeFileSync(file, 'x');
    const sharedDb = Object.create(t.db, { close: { value: async () => undefined } }) as Database;
    degraded = await createDaemon(runtimeFor(sharedDb, join(file, 'data')), { schedule: false });
  });
  after(async () => {
    await degraded?.stop();
    // The last test closes the pool on purpose, so closing it again may fail.
    await daemon?.stop().catch(() => undefined);
    await t?.dispose();
  });

  it('answers liveness', async () => {
    const res = await http.get('/health/live');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.body.details.process.status, 'up');
  });

  it('answers readiness with the database, migrations and data folder up', async () => {
    const res = await http.get('/health/ready');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'ok');
    const { database, migrations, data_folder, pipeline } = res.body.details;
    assert.equal(database.status, 'up');
    assert.equal(database.kind, t.db.kind);
    assert.equal(migrations.status, 'up');
    assert.ok(migrations.applied >= 1);
    assert.equal(data_folder.status, 'up');
    assert.equal(pipeline.active_run, null);
    assert.ok(!res.text.includes(dataDir), `readiness answers anyone: no data folder path in ${res.text}`);
  });

  it(
    'answers readiness within its probe timeout while file access is stuck, not ready',
    { timeout: 20_000 },
    async () => {
      // Opening a named pipe for reading waits for a writer inside libuv's thread pool; as many as
      // it has threads stop every file access of the process, as a hung network file system would.
      const fifos = mkdtempSync(join(tmpdir(), 'daemon-fifos-'));
      const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      const paths = Array.from({ length: threads }, (_, i) => join(fifos, `pipe-${i}`));
      for (const path of paths) execFileSync('mkfifo', [path]);
      const stuck = paths.map((path) => open(path, 'r'));
      // A writer lets each open return and frees the pool's threads: after the request, or at the
      // latest after 8 s, so that a readiness that waits for file access fails instead of hanging.
      const release = (): number[] =>
        paths.map((path) => openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
      let writers: number[] = [];
      const deadline = setTimeout(() => (writers = release()), 8_000);
      try {
        const started = Date.now();
        const res = await http.get('/health/ready');
        assert.ok(Date.now() - started < 6_000, `answered after ${Date.now() - started} ms`);
        assert.equal(res.status, 503, res.text);
        assert.equal(res.body.details.data_folder.status, 'down');
        assert.match(res.body.details.data_folder.message, /did not answer within 3000 ms/);
        assert.equal(res.body.details.database.status, 'up');
      } finally {
        clearTimeout(deadline);
        if (writers.length === 0) writers = release();
        for (const handle of await Promise.all(stuck)) await handle.close();
        for (const fd of writers) closeSync(fd);
      }
      assert.equal((await http.get('/health/ready')).status, 200);
    },
  );

  it('is not ready when the data folder cannot be written', async () => {
    const res = await request(degraded.app.getHttpServer()).get('/health/ready');
    assert.equal(res.status, 503);
    assert.equal(res.body.statusCode, 503);
    assert.equal(res.body.status, 'error');
    assert.equal(res.body.details.data_folder.status, 'down');
    assert.equal(res.body.details.data_folder.message, 'ENOTDIR');
    assert.ok(!res.text.includes(tmpdir()), `no data folder path in ${res.text}`);
    assert.equal(res.body.details.database.status, 'up');
    assert.equal((await request(degraded.app.getHttpServer()).get('/health/live')).status, 200);
  });

  it('lists the registered stages in run order', async () => {
    const res = await http.get('/stages');
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.stages.map((s: { name: string; phase: string; depends_on: string[] }) => [
        s.name,
        s.phase,
        s.depends_on,
      ]),
      [
        ['http-extract', 'main', []],
        ['http-load', 'main', ['http-extract']],
        ['http-monitor', 'finally', []],
      ],
    );
  });

  it('refuses to start a run without a token or with a wrong one of the same length', async () => {
    assertJsonError(await http.post('/runs').send({}), 401, /missing bearer token/);
    assertJsonError(
      await http.post('/runs').set('Authorization', 'Bearer secret-token-124').send({}),
      401,
      /^invalid token$/,
    );
    assertJsonError(await http.post('/runs').set('Authorization', `Basic ${TOKEN}`).send({}), 401);
    assert.equal(daemon.kernel.runs.current, null);
  });

  it('starts a run (202 with its id), records it, and shows it in the history', async () => {
    const res = await post({ run_date: '2025-07-01' });
    assert.equal(res.status, 202, res.text);
    assert.match(res.body.run_id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.run_date, '2025-07-01');
    assert.deepEqual(res.body.stages, ['http-extract', 'http-load', 'http-monitor']);
    assert.equal(res.body.status_url, `/runs/${res.body.run_id}`);
    const run = (await waitForRunEnd(res.body.run_id)) as {
      status: string;
      trigger: string;
      report: { stages: unknown[] };
      stages: { stage: string; status: string }[];
    };
    assert.equal(run.status, 'succeeded');
    assert.equal(run.trigger, 'api');
    assert.equal(run.report.stages.length, 3);
    assert.deepEqual(
      run.stages.map((s) => `${s.stage}:${s.status}`),
      ['http-extract:succeeded', 'http-load:succeeded', 'http-monitor:succeeded'],
    );

    const list = await http.get('/runs');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.runs.map((r: { id: string; status: string }) => [r.id, r.status]),
      [[res.body.run_id, 'succeeded']],
    );
    assert.equal(list.body.active, null);
  });

  it('runs only the stages asked for', async () => {
    const res = await post({ stages: ['http-extract'] });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.body.stages, ['http-extract']);
    assert.equal((await waitForRunEnd(res.body.run_id)).status, 'succeeded');
  });

  it('answers 409 while a run holds the lock, and starts again once it is released', async () => {
    hooks.hold = gate();
    const first = await post({});
    assert.equal(first.status, 202, first.text);
    assertJsonError(await post({}), 409, /run is in progress/);
    const ready = await http.get('/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.details.pipeline.active_run.runId, first.body.run_id);
    hooks.hold.open();
    hooks.hold = null;
    assert.equal((await waitForRunEnd(first.body.run_id)).status, 'succeeded');
    const again = await post({ stages: ['http-extract'] });
    assert.equal(again.status, 202, again.text);
    await waitForRunEnd(again.body.run_id);
  });

  it('exposes every contract metric in the Prometheus text format after a run', async () => {
    const res = await http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const types = new Map<string, string>();
    for (const line of res.text.split('\n')) {
      if (line === '') continue;
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) {
        types.set(type[1]!, type[2]!);
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      assert.match(
        line,
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/,
        `not a sample line: ${line}`,
      );
    }
    for (const name of CONTRACT_METRIC_NAMES) assert.ok(types.has(name), `missing ${name}`);
    assert.equal(types.get('pipeline_run_duration_seconds'), 'histogram');
    assert.equal(types.get('pipeline_runs_total'), 'counter');
    assert.match(res.text, /^pipeline_runs_total\{status="succeeded"\} 4$/m);
    assert.match(
      res.text,
      /^pipeline_rows_total\{stage="http-load",table="kernel_test.loaded",kind="written"\} 4$/m,
    );
    assert.match(res.text, /^pipeline_stage_attempts_total\{stage="http-extract",outcome="succeeded"\} 4$/m);
    assert.match(res.text, /^pipeline_lock_held 0$/m);
    assert.match(res.text, /^process_cpu_user_seconds_total /m);
  });

  it('shows one run in full, 404 for an unknown id and 400 for anything that is not a UUID', async () => {
    const [latest] = (await http.get('/runs?limit=1')).body.runs as { id: string }[];
    const one = await http.get(`/runs/${latest!.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, latest!.id);
    assertJsonError(await http.get('/runs/7d9f0f3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f'), 404, /no run 7d9f0f3e/);
    assertJsonError(await http.get('/runs/not-a-uuid'), 400, /a run id is a UUID/);
    assertJsonError(await http.get('/runs/..%2F..%2Fetc'), 400, /a run id is a UUID/);
    assertJsonError(await http.get('/runs/%FF'), 400);
    assertJsonError(await http.get("/runs/1'%20OR%20'1'='1"), 400);
  });

  it('refuses bad paging parameters', async () => {
    assertJsonError(await http.get('/runs?limit=abc'), 400, /limit/);
    assertJsonError(await http.get('/runs?limit=100000'), 400, /limit/);
    assertJsonError(await http.get('/runs?sort=id'), 400, /unknown field "sort"/);
  });

  it('refuses malformed or invalid run requests with a 400 naming the problem', async () => {
    assertJsonError(
      await http
        .post('/runs')
        .set('Authorization', `Bearer ${TOKEN}`)
        .set('Content-Type', 'application/json')
        .send('{"stages": ['),
      400,
      /JSON/,
    );
    assertJsonError(await post({ stages: 'x' }), 400, /^stages: /);
    assertJsonError(await post({ stages: [42] }), 400, /^stages\.0: /);
    assertJsonError(await post({ stages: ['nope'] }), 400, /unknown stage: nope/);
    assertJsonError(await post({ from: 'http-monitor' }), 400, /main stage/);
    assertJsonError(await post({ stagez: ['http-extract'] }), 400, /unknown field "stagez"/);
    assertJsonError(await post({ run_date: '2025-02-30' }), 400, /run_date/);
    for (const word of ['today', 'epoch', 'now'])
      assertJsonError(await post({ run_date: word }), 400, /run_date: expected a date YYYY-MM-DD/);
    assertJsonError(
      await post({ run_date: '9999-12-30' }),
      400,
      /run date 9999-12-30 is outside the accepted window 2000-01-01 \.\. \d{4}-\d\d-\d\d .*pipeline\.run_date_window/,
    );
    assertJsonError(await post({ run_date: '1970-01-01' }), 400, /outside the accepted window/);
    assertJsonError(
      await post({ stages: ['http-extract'], from: 'http-extract' }),
      400,
      /either "stages" or "from"/,
    );
    assert.equal(daemon.kernel.runs.current, null);
  });

  it('refuses a run request whose body is not JSON with 415, and starts nothing', async () => {
    const send = (type: string | null, body: string) => {
      const req = http.post('/runs').set('Authorization', `Bearer ${TOKEN}`);
      return (type === null ? req : req.set('Content-Type', type)).send(body);
    };
    // What `curl -d '{"stages": [...]}'` sends: a form; read as no body, it ran everything.
    assertJsonError(
      await send('application/x-www-form-urlencoded', '{"stages": ["http-extract"]}'),
      415,
      /Content-Type: application\/json \(got application\/x-www-form-urlencoded\)/,
    );
    assertJsonError(await send('text/plain', '{"stages": ["http-extract"]}'), 415, /got text\/plain/);
    assertJsonError(await send('multipart/form-data; boundary=x', '--x--'), 415, /got multipart\/form-data/);
    assert.equal(daemon.kernel.runs.current, null);
    // JSON with a charset, and no body at all, are fine.
    const json = await send('application/json; charset=utf-8', '{"stages": ["http-extract"]}');
    assert.equal(json.status, 202, json.text);
    await waitForRunEnd(json.body.run_id);
    // An empty body, as fetch() sends a bodiless POST (Content-Length: 0, no type): a full run.
    const bodiless = await http
      .post('/runs')
      .set('Authorization', `Bearer ${TOKEN}`)
      .set('Content-Length', '0');
    assert.equal(bodiless.status, 202, bodiless.text);
    await waitForRunEnd(bodiless.body.run_id);
  });

  it('refuses a body over the limit with 413', async () => {
    assertJsonError(
      await post({ stages: ['http-extract'], padding: 'x'.repeat(100 * 1024) }),
      413,
      /too large/,
    );
  });

  it('sends security headers with every answer: the page loads only its own files, nothing frames it, no referrer, no sniffing', async () => {
    for (const [path, status] of [
      ['/ui', 200],
      ['/ui/run-page.js', 200],
      ['/runs', 200],
      ['/metrics', 200],
      ['/health/live', 200],
      ['/nope', 404],
    ] as const) {
      const res = await http.get(path);
      assert.equal(res.status, status, path);
      const policy = String(res.headers['content-security-policy']);
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
      ])
        assert.ok(policy.split(';').includes(directive), `${path}: ${directive} in ${policy}`);
      assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/, path);
      assert.equal(res.headers['x-frame-options'], 'DENY', path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', path);
      // Plain HTTP behind an ingress: the transport policy is the ingress's to set.
      assert.equal(res.headers['strict-transport-security'], undefined, path);
      assert.equal(res.headers['x-powered-by'], undefined, path);
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    assertJsonError(await http.get('/nope'), 404);
    assertJsonError(await http.delete('/runs'), 404);
  });

  it('fails a run whose data folder cannot be created, records it, and releases the run lock', async () => {
    const started = await degraded.kernel.runs.start({ trigger: 'api', only: ['http-extract'] });
    const report = await started.done;
    assert.equal(report.status, 'failed');
    assert.match(report.error ?? '', /ENOTDIR/);
    assert.equal(degraded.kernel.runs.current, null);
    const run = await http.get(`/runs/${started.runId}`);
    assert.equal(run.body.status, 'failed');
    assert.match(run.body.error, /ENOTDIR/);
    // Nobody holds the lock any more: the healthy daemon starts a run.
    const next = await post({ stages: ['http-extract'] });
    assert.equal(next.status, 202, next.text);
    assert.equal((await waitForRunEnd(next.body.run_id)).status, 'succeeded');
  });

  it('keeps serving after all those errors', async () => {
    assert.equal((await http.get('/health/live')).status, 200);
    assert.equal((await http.get('/stages')).status, 200);
  });

  it('is not ready, but still live, once the database pool is closed', async () => {
    await t.db.close();
    const res = await http.get('/health/ready');
    assert.equal(res.status, 503);
    assert.equal(res.body.statusCode, 503);
    assert.equal(res.body.details.database.status, 'down');
    assert.equal(res.body.details.migrations.status, 'down');
    assert.equal(res.body.details.data_folder.status, 'up');
    assert.equal((await http.get('/health/live')).status, 200);
    assertJsonError(await http.get('/runs'), 500, /^internal error$/);
  });
});
