import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import {
  PermanentError,
  Stage,
  type PipelineStage,
  type StageResult,
} from '../../../../libs/kernel/index.js';
import type { TestDatabase } from '../../../../test/support/databases.js';
import { gate, type Gate } from '../../../../test/support/kernel.js';
import type { Daemon } from '../serve.js';
import { testDaemon } from '../../../../test/support/http-daemon.js';

const TOKEN = 'openapi-token-123';
const UNKNOWN = '7d9f0f3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const hooks: { fail: boolean; hold: Gate | null } = { fail: false, hold: null };

@Injectable()
@Stage({ name: 'doc-work', description: 'works, or fails when told' })
class WorkStage implements PipelineStage {
  async run(): Promise<StageResult> {
    await hooks.hold?.promise;
    if (hooks.fail) throw new PermanentError('told to fail');
    return {};
  }
}

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
  parameters?: Array<{ name: string; in: string }>;
}

/** A probe: the operation's path and method, the request, the status it must answer. */
type Probe = [string, string, () => request.Test, number];
type Paths = Record<string, Record<string, Operation>>;

describe('the OpenAPI document', () => {
  let t: TestDatabase;
  let daemon: Daemon;
  let http: ReturnType<typeof request>;
  let paths: Paths;
  let document: Record<string, unknown>;

  before(async () => {
    ({ daemon, t } = await testDaemon({ token: TOKEN, stages: [WorkStage] }));
    http = request(daemon.app.getHttpServer());
    const res = await http.get('/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    document = res.body as Record<string, unknown>;
    paths = document.paths as Paths;
  });
  after(async () => {
    await daemon?.stop().catch(() => undefined);
    await t?.dispose();
  });

  it('is a valid OpenAPI 3 document', async () => {
    const result = await new Validator().validate(document);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match(String(document.openapi), /^3\./);
  });

  it('describes every route the daemon serves', () => {
    const router = (
      daemon.app.getHttpAdapter().getInstance() as {
        router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
      }
    ).router;
    const served = router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) =>
        Object.keys(layer.route!.methods).map(
          (method) => `${method.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`,
        ),
      )
      .filter((route) => route !== 'GET /openapi.json')
      .sort();
    const described = Object.entries(paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.ok(served.length >= 10, served.join(', '));
    assert.deepEqual(described, served);
  });

  it('describes the query parameters from the same schemas the endpoints validate with', () => {
    const names = (path: string, method: string) =>
      (paths[path]![method]!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    assert.deepEqual(names('/runs', 'get').sort(), [
      'before',
      'failed_stage',
      'limit',
      'offset',
      'run_date_from',
      'run_date_to',
      'status',
      'trigger',
    ]);
    assert.deepEqual(names('/runs/{id}/logs', 'get').sort(), ['after', 'attempt', 'level', 'limit', 'stage']);
    const logs = paths['/runs/{id}/logs']!.get!.responses['200'] as { headers?: Record<string, unknown> };
    assert.ok(logs.headers?.['Next-After'], 'the next page header is described');
    assert.deepEqual(names('/runs/{id}/retry', 'post'), ['dry_run']);
  });

  const validators = new Map<object, ValidateFunction>();
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  /**
   * Sends `probe` and checks that its status is described and that its body is what the document
   * declares for that status (each line of a JSON-lines body on its own).
   */
  const check = async ([path, method, send, status]: Probe): Promise<request.Response> => {
    const res = await send();
    const name = `${method.toUpperCase()} ${path} ${status}`;
    assert.equal(res.status, status, `${method.toUpperCase()} ${path}: ${res.text.slice(0, 200)}`);
    const described = paths[path]?.[method]?.responses[String(status)];
    assert.ok(described, `${name}: answered, not described`);
    const type = String(res.headers['content-type'] ?? '').split(';')[0]!;
    const schema = described.content?.[type]?.schema;
    if (type === 'application/json' || type === 'application/x-ndjson') {
      assert.ok(schema, `${name}: a ${type} body without a declared schema for it`);
      let validate = validators.get(schema);
      if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
      const bodies =
        type === 'application/json'
          ? [res.body as unknown]
          : res.text
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as unknown);
      for (const body of bodies)
        assert.ok(validate(body), `${name}: the body is not as declared: ${ajv.errorsText(validate.errors)}`);
    }
    return res;
  };

  it('describes every status code the API answers, each body as its schema says', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok = (await http.post('/runs').set(auth).send({})).body.run_id as string;
    await waitIdle();
    hooks.fail = true;
    const failed = (await http.post('/runs').set(auth).send({})).body.run_id as string;
    await waitIdle();
    hooks.fail = false;

    // [operation path, method, the request, the status it must answer]
    const probes: Probe[] = [
      ['/health/live', 'get', () => http.get('/health/live'), 200],
      ['/health/ready', 'get', () => http.get('/health/ready'), 200],
      ['/metrics', 'get', () => http.get('/metrics'), 200],
      ['/stages', 'get', () => http.get('/stages'), 200],
      ['/plugins', 'get', () => http.get('/plugins'), 200],
      ['/runs', 'get', () => http.get('/runs?status=failed'), 200],
      ['/runs', 'get', () => http.get('/runs?limit=0'), 400],
      ['/runs/{id}', 'get', () => http.get(`/runs/${ok}`), 200],
      ['/runs/{id}', 'get', () => http.get('/runs/nope'), 400],
      ['/runs/{id}', 'get', () => http.get(`/runs/${UNKNOWN}`), 404],
      ['/runs', 'post', () => http.post('/runs').send({}), 401],
      [
        '/runs',
        'post',
        () =>
          http
            .post('/runs')
            .set(auth)
            .send({ stages: ['Bad'] }),
        400,
      ],
      ['/runs', 'post', () => http.post('/runs').set(auth).type('text/plain').send('x'), 415],
      [
        '/runs',
        'post',
        () =>
          http
            .post('/runs')
            .set(auth)
            .send({ stages: ['x'.repeat(200_000)] }),
        413,
      ],
      ['/runs/{id}/logs', 'get', () => http.get(`/runs/${ok}/logs`), 200],
      ['/runs/{id}/logs', 'get', () => http.get(`/runs/${ok}/logs?level=x`), 400],
      ['/runs/{id}/logs', 'get', () => http.get(`/runs/${UNKNOWN}/logs`), 404],
      ['/runs/{id}/cancel', 'post', () => http.post(`/runs/${ok}/cancel`), 401],
      ['/runs/{id}/cancel', 'post', () => http.post('/runs/x/cancel').set(auth), 400],
      ['/runs/{id}/cancel', 'post', () => http.post(`/runs/${UNKNOWN}/cancel`).set(auth), 404],
      ['/runs/{id}/cancel', 'post', () => http.post(`/runs/${ok}/cancel`).set(auth), 409],
      ['/runs/{id}/retry', 'post', () => http.post(`/runs/${ok}/retry`), 401],
      ['/runs/{id}/retry', 'post', () => http.post(`/runs/${failed}/retry?dry_run=1`).set(auth), 400],
      ['/runs/{id}/retry', 'post', () => http.post(`/runs/${UNKNOWN}/retry`).set(auth), 404],
      ['/runs/{id}/retry', 'post', () => http.post(`/runs/${ok}/retry`).set(auth), 422],
      ['/runs/{id}/retry', 'post', () => http.post(`/runs/${failed}/retry?dry_run=true`).set(auth), 200],
      ['/runs/{id}/retry', 'post', () => http.post(`/runs/${failed}/retry`).set(auth), 202],
      ['/runs', 'post', () => http.post('/runs').set(auth).send({}), 202],
    ];
    for (const probe of probes) {
      await check(probe);
      await waitIdle();
    }
    // While a run holds the lock.
    hooks.hold = gate();
    const running = (await http.post('/runs').set(auth).send({})).body.run_id as string;
    try {
      const held: Probe[] = [
        ['/runs', 'post', () => http.post('/runs').set(auth).send({}), 409],
        ['/runs/{id}/retry', 'post', () => http.post(`/runs/${failed}/retry`).set(auth), 409],
        ['/runs/{id}/retry', 'post', () => http.post(`/runs/${running}/retry`).set(auth), 409],
        ['/runs/{id}/cancel', 'post', () => http.post(`/runs/${running}/cancel`).set(auth), 202],
      ];
      for (const probe of held) await check(probe);
    } finally {
      hooks.hold.open();
      hooks.hold = null;
    }
    await waitIdle();

    // The database refusing connections: every endpoint that uses it answers 503, as described.
    // (GET /plugins reads migrations only of plugins that have some: the test's has none.)
    const pool = daemon.kernel.db.pool;
    const { query, connect } = pool;
    const refused = (): Promise<never> =>
      Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      );
    pool.query = refused as typeof pool.query;
    pool.connect = refused as typeof pool.connect;
    try {
      const down: Probe[] = [
        ['/runs', 'get', () => http.get('/runs'), 503],
        ['/runs', 'post', () => http.post('/runs').set(auth).send({}), 503],
        ['/runs/{id}', 'get', () => http.get(`/runs/${ok}`), 503],
        ['/runs/{id}/logs', 'get', () => http.get(`/runs/${ok}/logs`), 503],
        ['/runs/{id}/cancel', 'post', () => http.post(`/runs/${ok}/cancel`).set(auth), 503],
        ['/runs/{id}/retry', 'post', () => http.post(`/runs/${failed}/retry`).set(auth), 503],
      ];
      for (const probe of down) await check(probe);
    } finally {
      pool.query = query;
      pool.connect = connect;
    }
  });

  const waitIdle = async (): Promise<void> => {
    for (let i = 0; i < 400 && daemon.kernel.runs.current !== null; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
  };
});
