/** Operators see the loaded plugins: `pipeline plugins`, `GET /plugins`, metrics and run reports. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { defaultPlugins } from '../../apps/daemon/src/plugins.js';
import { createDaemon, type Daemon } from '../../apps/daemon/src/serve.js';
import { buildConfig } from '../../libs/config/index.js';
import { loadPlugins, type PluginReport } from '../../libs/kernel/index.js';
import { silentLogger } from '../../libs/logging/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';
import {
  createPostgresDatabase,
  freshPostgres,
  needsPostgres,
  type TestDatabase,
} from '../support/databases.js';

const CLI = fileURLToPath(new URL('../../apps/daemon/src/cli.js', import.meta.url));

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const BUILT_INS = defaultPlugins.length;

describe('pipeline plugins', { skip: needsPostgres }, () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  before(async () => {
    const created = await createPostgresDatabase('plugins_cli');
    drop = created.drop;
    env = { DATABASE_URL: created.url, PIPELINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'plugins-cli-')) };
  });
  after(async () => drop?.());

  it('lists each plugin with its version, API range, stages, and migrations pending, then applied', async () => {
    const before = await cli(['plugins', '--json'], env);
    assert.equal(before.code, 0, before.stderr);
    const listed = JSON.parse(before.stdout) as PluginReport[];
    assert.equal(listed.length, BUILT_INS);
    const warehouse = listed.find((p) => p.name === '@pipeline/plugin-warehouse')!;
    assert.equal(warehouse.version, '1.0.0');
    assert.equal(warehouse.kernel_api, '^1.0.0');
    assert.deepEqual(warehouse.stages, ['warehouse']);
    assert.deepEqual(warehouse.migrations, {
      history: 'pipeline.migrations_pipeline_plugin_warehouse',
      applied: [],
      pending: [
        'WarehouseSchema1764100000000',
        'FactSalesDiscountAddsUp1764100015000',
        'CitusLayout1764100030000',
        'SalesSetAside1764100050000',
      ],
    });
    assert.deepEqual(listed.find((p) => p.name === '@pipeline/plugin-cleanup')!.migrations, {
      history: null,
      applied: [],
      pending: [],
    });

    const migrated = await cli(['migrate'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    const after = JSON.parse((await cli(['plugins', '--json'], env)).stdout) as PluginReport[];
    assert.deepEqual(after.find((p) => p.name === '@pipeline/plugin-warehouse')!.migrations.pending, []);
    assert.equal(after.find((p) => p.name === '@pipeline/plugin-warehouse')!.migrations.applied.length, 4);

    assert.deepEqual(listed.find((p) => p.name === '@pipeline/plugin-quality-checks')!.reads, [
      '@pipeline/plugin-production-etl',
    ]);

    const table = await cli(['plugins'], env);
    assert.match(
      table.stdout,
      /^@pipeline\/plugin-warehouse\s+1\.0\.0\s+\^1\.0\.0\s+warehouse\s+-\s+4\s+none$/m,
    );
    assert.match(
      table.stdout,
      /^@pipeline\/plugin-quality-checks\s+1\.0\.0\s+\^1\.0\.0\s+quality-checks\s+@pipeline\/plugin-production-etl\s+0\s+none$/m,
    );
  });

  it('stops with one line naming a listed plugin that is not installed', async () => {
    const { code, stdout, stderr } = await cli(['stages'], {
      ...env,
      PIPELINE_PLUGINS: '@acme/not-installed',
    });
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(
      stderr,
      /^pipeline: plugin @acme\/not-installed could not be loaded: Cannot find package '@acme\/not-installed'[^\n]*\n$/,
    );
  });
});

describe('GET /plugins, pipeline_plugin_info and run reports', { skip: needsPostgres }, () => {
  let t: TestDatabase;
  let daemon: Daemon;
  before(async () => {
    t = await freshPostgres();
    daemon = await createDaemon(
      {
        config: buildConfig({
          pipeline: { data_dir: mkdtempSync(join(tmpdir(), 'plugins-http-')) },
          scheduler: { enabled: false },
        }),
        db: t.db,
        logger: silentLogger,
        metrics: new PipelineMetrics({ defaultMetrics: false }),
        codeVersion: 'test',
        plugins: await loadPlugins(defaultPlugins),
      },
      { schedule: false },
    );
  });
  after(async () => {
    await daemon?.stop();
    await t?.dispose();
  });

  it('answers GET /plugins with every loaded plugin and its migrations applied', async () => {
    const res = await request(daemon.app.getHttpServer()).get('/plugins');
    assert.equal(res.status, 200);
    const plugins = (res.body as { plugins: PluginReport[] }).plugins;
    assert.deepEqual(
      plugins.map((p) => p.name),
      defaultPlugins,
    );
    assert.ok(plugins.every((p) => p.migrations.pending.length === 0));
  });

  it('exposes pipeline_plugin_info{plugin,version} and records plugin versions in run reports', async () => {
    const metrics = await request(daemon.app.getHttpServer()).get('/metrics');
    assert.match(
      metrics.text,
      /^pipeline_plugin_info\{plugin="@pipeline\/plugin-monitoring",version="1\.0\.0"\} 1$/m,
    );
    const report = await daemon.kernel.runs.run({ trigger: 'cli', only: ['cleanup'], runDate: '2025-08-01' });
    assert.equal(report.status, 'succeeded', report.error ?? '');
    assert.equal(report.plugins['@pipeline/plugin-cleanup'], '1.0.0');
    assert.equal(Object.keys(report.plugins).length, BUILT_INS);
  });
});
