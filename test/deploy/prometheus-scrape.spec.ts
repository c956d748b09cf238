/**
 * A real Prometheus (Debian's package) on loopback scrapes a real daemon after a pipeline run:
 * the contract metrics arrive with the values the run produced, and the alert rules load and
 * evaluate. Skipped where no `prometheus` binary is installed (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostgresDatabase, needsPostgres } from '../support/databases.js';
import { freePort, startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';

const TOKEN = 'prometheus-test-token';
const prometheusMissing =
  spawnSync('prometheus', ['--version']).status === 0
    ? false
    : 'needs the prometheus binary (apt-get install prometheus)';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('Prometheus scraping the daemon after a run', { skip: needsPostgres || prometheusMissing }, () => {
  let drop: () => Promise<void>;
  let daemon: DaemonProcess;
  let prometheus: ChildProcess;
  let promUrl: string;
  let rawRows: Record<string, number>;

  const query = async (expr: string): Promise<Sample[]> => {
    const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success', expr);
    return body.data.result;
  };
  const scalar = async (expr: string): Promise<number> => {
    const result = await query(expr);
    assert.equal(result.length, 1, `${expr} has one series`);
    return Number(result[0]!.value[1]);
  };

  before(async () => {
    const created = await createPostgresDatabase('prom');
    drop = created.drop;
    const dir = mkdtempSync(join(tmpdir(), 'prom-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      'data_generation:\n  customers: 200\n  products: 80\n  transactions: 800\nscheduler:\n  enabled: false\n',
    );
    daemon = await startDaemon({
      DATABASE_URL: created.url,
      PIPELINE_CONFIG: config,
      PIPELINE_DATA_DIR: join(dir, 'data'),
      PIPELINE_API_TOKEN: TOKEN,
    });
    const started = await fetch(`${daemon.baseUrl}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(started.status, 202);
    const { run_id: runId } = (await started.json()) as { run_id: string };
    const runDate = await waitFor(
      'the run to finish',
      async () => {
        const run = (await (await fetch(`${daemon.baseUrl}/runs/${runId}`)).json()) as {
          status: string;
          run_date: string;
        };
        return run.status !== 'running' && run.run_date;
      },
      120_000,
    );
    const metadata = JSON.parse(
      readFileSync(join(dir, 'data', 'raw', runDate, 'generation_metadata.json'), 'utf8'),
    ) as { record_counts: Record<string, number> };
    rawRows = metadata.record_counts;

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const promConfig = join(dir, 'prometheus.yml');
    writeFileSync(
      promConfig,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${resolve('deploy/prometheus/alerts.yml')}']`,
        'scrape_configs:',
        '  - job_name: pipeline-daemon',
        `    static_configs: [{ targets: ['127.0.0.1:${daemon.port}'] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      'Prometheus to scrape the daemon',
      async () => {
        try {
          return (await query('up{job="pipeline-daemon"}')).some((s) => s.value[1] === '1');
        } catch {
          return false;
        }
      },
      60_000,
    );
  });

  after(async () => {
    prometheus?.kill('SIGKILL');
    daemon?.child.kill('SIGTERM');
    await daemon?.exited;
    await drop?.();
  });

  it('receives the run, stage and data metrics with the values of the run', async () => {
    assert.equal(await scalar('pipeline_runs_total{status="succeeded"}'), 1);
    assert.equal(await scalar('pipeline_runs_total{status="failed"}'), 0);
    assert.equal(await scalar('pipeline_lock_held'), 0);
    assert.equal(await scalar('pipeline_data_quality_score'), 100);
    assert.equal(await scalar('pipeline_database_up'), 1);
    const lastSuccess = await scalar('pipeline_last_success_timestamp_seconds');
    assert.ok(Math.abs(Date.now() / 1000 - lastSuccess) < 300, 'last success is the run just finished');
    assert.equal(
      await scalar('sum(pipeline_rows_total{stage="ingestion",kind="written"})'),
      await scalar('sum(pipeline_rows_total{stage="data-generation",kind="written"})'),
    );
    assert.equal(
      await scalar('pipeline_rows_total{stage="ingestion",table="staging.transactions",kind="written"}'),
      rawRows.transactions,
    );
    const stages = await query('pipeline_stage_duration_seconds_count');
    assert.deepEqual(stages.map((s) => s.metric.stage).sort(), [
      'analytics',
      'data-generation',
      'ingestion',
      'monitoring',
      'production-etl',
      'quality-checks',
      'warehouse',
    ]);
    for (const layer of ['staging', 'production', 'warehouse']) {
      assert.ok(
        (await scalar(`pipeline_data_freshness_seconds{layer="${layer}"}`)) >= 0,
        `freshness of ${layer}`,
      );
    }
    assert.equal(await scalar('pipeline_stage_attempts_total{stage="warehouse",outcome="succeeded"}'), 1);
  });

  it('loads every alert rule and evaluates it against the scraped series', async () => {
    const expected = [...readFileSync('deploy/prometheus/alerts.yml', 'utf8').matchAll(/- alert: (\w+)/g)]
      .map((m) => m[1]!)
      .sort();
    const rules = await waitFor(
      'every rule to be evaluated',
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
          data: {
            groups: { rules: { name: string; health: string; lastEvaluation: string; state: string }[] }[];
          };
        };
        const all = body.data.groups.flatMap((g) => g.rules);
        return (
          all.length === expected.length && all.every((r) => !r.lastEvaluation.startsWith('0001')) && all
        );
      },
      30_000,
    );
    assert.deepEqual(rules.map((r) => r.name).sort(), expected);
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name} evaluates`);
    const firing = rules.filter((r) => r.state !== 'inactive').map((r) => r.name);
    assert.ok(!firing.includes('PipelineLastRunFailed'), 'a succeeded run raises no failure alert');
    assert.ok(!firing.includes('PipelineDataQualityLow'), 'a clean load raises no quality alert');
    assert.ok(!firing.includes('PipelineDatabaseUnreachable'), 'the database is up');
  });
});
