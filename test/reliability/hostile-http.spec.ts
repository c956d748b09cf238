/**
 * Hostile requests against a real daemon process: each gets a JSON 4xx (`{statusCode, error,
 * message}`, no stack trace), no run starts, and the daemon keeps serving.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { recordFault } from './fault-log.js';
import { scalar, smallConfig, withClient } from './harness.js';

const TOKEN = 'hostile-http-token-0123456789abcdef';
const WRONG = TOKEN.replace(/.$/, 'x');

interface HostileRequest {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A string (fetch sends text/plain unless told), or bytes (fetch sends no content type). */
  readonly body?: string | Uint8Array;
  readonly status: number;
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const SQL_ID = encodeURIComponent("1' OR '1'='1");

const REQUESTS: readonly HostileRequest[] = [
  { name: 'malformed JSON', method: 'POST', path: '/runs', headers: auth, body: '{"stages": [', status: 400 },
  {
    name: 'JSON that is not an object',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '"run"',
    status: 400,
  },
  {
    name: 'stages of the wrong type',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '{"stages": "warehouse"}',
    status: 400,
  },
  {
    name: 'run_date of the wrong type',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '{"run_date": 20250101}',
    status: 400,
  },
  {
    name: 'run_date that is no date',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '{"run_date": "2025-02-30"}',
    status: 400,
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '{"stage": ["warehouse"]}',
    status: 400,
  },
  {
    name: 'unknown stage name',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '{"stages": ["warehous"]}',
    status: 400,
  },
  {
    name: 'unknown --from stage',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: '{"from": "nope"}',
    status: 400,
  },
  {
    name: 'SQL in a stage name',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: `{"stages": ["x'); DROP TABLE pipeline.runs; --"]}`,
    status: 400,
  },
  {
    name: 'body of 1 MB (limit 64 kB)',
    method: 'POST',
    path: '/runs',
    headers: auth,
    body: JSON.stringify({ stages: ['a'.repeat(1024 * 1024)] }),
    status: 413,
  },
  {
    name: 'missing token',
    method: 'POST',
    path: '/runs',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    status: 401,
  },
  {
    name: 'wrong token of the right length',
    method: 'POST',
    path: '/runs',
    headers: { authorization: `Bearer ${WRONG}`, 'content-type': 'application/json' },
    body: '{}',
    status: 401,
  },
  {
    name: 'token in the wrong scheme',
    method: 'POST',
    path: '/runs',
    headers: { authorization: `Basic ${TOKEN}`, 'content-type': 'application/json' },
    body: '{}',
    status: 401,
  },
  {
    name: 'a form body, as curl -d sends it (read as no body it ran everything)',
    method: 'POST',
    path: '/runs',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: '{"stages": ["monitoring"]}',
    status: 415,
  },
  {
    name: 'a text/plain body',
    method: 'POST',
    path: '/runs',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
    body: '{"stages": ["monitoring"]}',
    status: 415,
  },
  {
    name: 'a multipart form body',
    method: 'POST',
    path: '/runs',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'multipart/form-data; boundary=x' },
    body: '--x\r\nContent-Disposition: form-data; name="stages"\r\n\r\nmonitoring\r\n--x--\r\n',
    status: 415,
  },
  {
    name: 'a body without a content type',
    method: 'POST',
    path: '/runs',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: new TextEncoder().encode('{"stages": ["monitoring"]}'),
    status: 415,
  },
  { name: 'path traversal in a run id', method: 'GET', path: '/runs/..%2F..%2Fetc%2Fpasswd', status: 400 },
  {
    name: 'SQL in a run id',
    method: 'GET',
    path: `/runs/${encodeURIComponent("1' OR '1'='1")}`,
    status: 400,
  },
  { name: 'unknown run id', method: 'GET', path: '/runs/00000000-0000-4000-8000-000000000000', status: 404 },
  { name: 'negative page size', method: 'GET', path: '/runs?limit=-5', status: 400 },
  { name: 'unknown query parameter', method: 'GET', path: '/runs?drop=1', status: 400 },
  { name: 'unknown route', method: 'GET', path: '/admin', status: 404 },
  // The operators' endpoints: cancel, retry, logs, and the run list's cursor and filters.
  { name: 'cancel without a token', method: 'POST', path: `/runs/${UNKNOWN}/cancel`, status: 401 },
  {
    name: 'cancel with a wrong token',
    method: 'POST',
    path: `/runs/${UNKNOWN}/cancel`,
    headers: { authorization: `Bearer ${WRONG}` },
    status: 401,
  },
  {
    name: 'cancel of an unknown run',
    method: 'POST',
    path: `/runs/${UNKNOWN}/cancel`,
    headers: auth,
    status: 404,
  },
  {
    name: 'SQL in the id of a cancel',
    method: 'POST',
    path: `/runs/${SQL_ID}/cancel`,
    headers: auth,
    status: 400,
  },
  { name: 'retry without a token', method: 'POST', path: `/runs/${UNKNOWN}/retry`, status: 401 },
  {
    name: 'retry with a dry_run that is no boolean',
    method: 'POST',
    path: `/runs/${UNKNOWN}/retry?dry_run=maybe`,
    headers: auth,
    status: 400,
  },
  {
    name: 'retry of an unknown run',
    method: 'POST',
    path: `/runs/${UNKNOWN}/retry`,
    headers: auth,
    status: 404,
  },
  { name: 'logs of an unknown run', method: 'GET', path: `/runs/${UNKNOWN}/logs`, status: 404 },
  { name: 'SQL in the id of a logs request', method: 'GET', path: `/runs/${SQL_ID}/logs`, status: 400 },
  {
    name: 'logs of an attempt beyond any number',
    method: 'GET',
    path: `/runs/${UNKNOWN}/logs?attempt=1e999`,
    status: 400,
  },
  { name: 'logs of an unknown level', method: 'GET', path: `/runs/${UNKNOWN}/logs?level=shout`, status: 400 },
  { name: 'logs after a negative line', method: 'GET', path: `/runs/${UNKNOWN}/logs?after=-1`, status: 400 },
  {
    name: 'a page of logs too large',
    method: 'GET',
    path: `/runs/${UNKNOWN}/logs?limit=100000`,
    status: 400,
  },
  {
    name: 'logs of two stages at once',
    method: 'GET',
    path: `/runs/${UNKNOWN}/logs?stage=a&stage=b`,
    status: 400,
  },
  { name: 'a run-list cursor that is not one', method: 'GET', path: "/runs?before=1'--", status: 400 },
  {
    name: 'a run-list cursor with an offset',
    method: 'GET',
    path: `/runs?before=1733500000000000_${UNKNOWN}&offset=5`,
    status: 400,
  },
  { name: 'a run status that does not exist', method: 'GET', path: '/runs?status=done', status: 400 },
  {
    name: 'a run-date range that ends before it starts',
    method: 'GET',
    path: '/runs?run_date_from=2025-02-01&run_date_to=2025-01-01',
    status: 400,
  },
];

describe('hostile HTTP requests against a real daemon', { skip: needsPostgres }, () => {
  let url: string;
  let drop: () => Promise<void>;
  let daemon: DaemonProcess;

  before(async () => {
    ({ url, drop } = await createPostgresDatabase('http'));
    daemon = await startDaemon({
      DATABASE_URL: url,
      PIPELINE_CONFIG: smallConfig(),
      PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'hostile-http-')),
      PIPELINE_API_TOKEN: TOKEN,
    });
  });

  after(async () => {
    daemon?.child.kill('SIGKILL');
    await daemon?.exited;
    await drop?.();
  });

  for (const r of REQUESTS) {
    it(`${r.name}: ${r.status} with a JSON error body`, async () => {
      const response = await fetch(`${daemon.baseUrl}${r.path}`, {
        method: r.method,
        headers: r.headers,
        body: r.body,
      });
      const text = await response.text();
      assert.equal(response.status, r.status, text);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      const body = JSON.parse(text) as { statusCode: number; error: string; message: string };
      assert.equal(body.statusCode, r.status);
      assert.equal(typeof body.message, 'string');
      assert.doesNotMatch(text, /\bat .+\.js:\d+/, 'no stack trace');
      assert.ok(!text.includes(TOKEN), 'the token is never echoed');
      recordFault({
        suite: 'hostile HTTP',
        fault: `${r.method} ${r.path.slice(0, 40)}: ${r.name}`,
        outcome: `${r.status} ${body.error}`,
        lost: 'nothing; no run started',
      });
    });
  }

  it('started no run and keeps serving', async () => {
    assert.equal(await withClient(url, (c) => scalar(c, 'SELECT count(*) AS v FROM pipeline.runs')), '0');
    const live = await fetch(`${daemon.baseUrl}/health/live`);
    assert.equal(live.status, 200);
    const ready = await fetch(`${daemon.baseUrl}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(daemon.child.exitCode, null);
  });
});
