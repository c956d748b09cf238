/**
 * The container image recipe and the compose stack. Neither Docker nor hadolint runs here, so
 * these specs read the Dockerfile's instructions and the compose model and check what the
 * daemon and the other deploy files depend on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DAEMON_NODE_FLAGS } from '../support/daemon-process.js';
import {
  RUNTIME_UID,
  dockerInstructions as instructions,
  readRepoFile,
  readYaml,
  repoRoot,
} from './deploy-files.js';

const dockerfile = instructions(readRepoFile('deploy/docker/Dockerfile'));
const runtimeStage = Math.max(...dockerfile.map((i) => i.stage));
const runtime = dockerfile.filter((i) => i.stage === runtimeStage);
const runtimeArgs = (keyword: string): string[] =>
  runtime.filter((i) => i.keyword === keyword).map((i) => i.args);

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}
const compose = readYaml<{ services: Record<string, ComposeService>; volumes: Record<string, unknown> }>(
  'deploy/compose.yaml',
);
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  assert.ok(found, `compose has no ${name} service`);
  return found;
};

describe('the container image (deploy/docker/Dockerfile)', () => {
  it('builds in a node:20-bookworm-slim stage and runs in another one that copies no sources', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    assert.deepEqual(froms, ['node:20-bookworm-slim AS build', 'node:20-bookworm-slim AS runtime']);
    const buildRuns = dockerfile
      .filter((i) => i.stage === 0 && i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    for (const step of ['npm ci', 'npm run build', 'npm prune --omit=dev'])
      assert.ok(buildRuns.includes(step), `build stage runs ${step}`);
    const copied = runtimeArgs('COPY');
    assert.ok(
      copied.every((args) => args.startsWith('--from=build') || args === 'config ./config'),
      `runtime copies only build output and config: ${copied.join(' | ')}`,
    );
    for (const path of ['/app/node_modules', '/app/dist'])
      assert.ok(
        copied.some((a) => a.includes(path)),
        `runtime copies ${path}`,
      );
  });

  it(`runs as the non-root uid ${RUNTIME_UID} that the Kubernetes securityContext names`, () => {
    assert.deepEqual(runtimeArgs('USER'), [`${RUNTIME_UID}:${RUNTIME_UID}`]);
  });

  it('keeps its data in the /var/lib/pipeline volume and serves on port 3000', () => {
    assert.deepEqual(runtimeArgs('VOLUME'), ['/var/lib/pipeline']);
    assert.deepEqual(runtimeArgs('EXPOSE'), ['3000']);
    const env = runtimeArgs('ENV').join(' ');
    assert.match(env, /PIPELINE_DATA_DIR=\/var\/lib\/pipeline/);
    assert.match(env, /PORT=3000/);
  });

  it('checks liveness with Node fetch (no curl in slim), stops on SIGTERM, and starts the CLI with serve', () => {
    const [healthcheck = ''] = runtimeArgs('HEALTHCHECK');
    assert.match(healthcheck, /CMD \["node", "-e", "fetch\(.*\/health\/live/);
    assert.doesNotMatch(healthcheck, /curl|wget/);
    assert.deepEqual(runtimeArgs('STOPSIGNAL'), ['SIGTERM']);
    const entrypoint = JSON.parse(runtimeArgs('ENTRYPOINT')[0] ?? '[]') as string[];
    assert.deepEqual(
      entrypoint,
      ['node', ...DAEMON_NODE_FLAGS, 'dist/apps/daemon/src/cli.js'],
      "package.json's pipeline script's Node flags",
    );
    // V8's default young generation (16 MB semi-spaces per thread) took the embedded database's
    // process over 400 MB; 4 MB costs no measured time (bench/results/README.md).
    assert.ok(DAEMON_NODE_FLAGS.includes('--max-semi-space-size=4'), DAEMON_NODE_FLAGS.join(' '));
    assert.deepEqual(runtimeArgs('CMD'), ['["serve"]']);
  });

  it('starts a script the build makes, the one package.json names as the CLI', () => {
    // A path typed by hand in the image drifts from the build's layout unnoticed until a pod
    // crash-loops: the entry point must be a file `npm run build` writes (the suite runs after it).
    const [entrypoint = '[]'] = runtimeArgs('ENTRYPOINT');
    const script = (JSON.parse(entrypoint) as string[]).at(-1)!;
    assert.ok(existsSync(join(repoRoot, script)), `${script} is not in the build output`);
    const pkg = JSON.parse(readRepoFile('package.json')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    assert.equal(pkg.bin.pipeline, script);
    // `npm start` (the daemon outside the image) is the same command as the image's, flags included.
    assert.equal(pkg.scripts.start, `${pkg.scripts.pipeline} serve`);
  });

  it('starts the pipeline bin with the same Node flags as the scripts and the image', () => {
    // The bin (after `npm link`, or from an installed package) is started by its first line alone.
    const script = join(repoRoot, 'dist/apps/daemon/src/cli.js');
    const shebang = readFileSync(script, 'utf8').split('\n', 1)[0]!;
    assert.equal(shebang, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
    // `env -S` splits the flags from the interpreter's name; without it Linux would look for a
    // program named "node --max-semi-space-size=4". Started the way the kernel starts it:
    const [command, ...args] = shebang.slice(2).split(' ');
    const started = spawnSync(command!, [...args, script, '--help'], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    assert.match(started.stdout, /Usage: pipeline/);
  });

  it('leaves dependencies, build output and local data out of the build context', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const path of ['.git', 'node_modules', 'dist', 'data', '.env'])
      assert.ok(ignored.includes(path), `.dockerignore lists ${path}`);
    for (const needed of [
      'package.json',
      'package-lock.json',
      'config',
      'apps',
      'libs',
      'plugins',
      'migrations',
      'test',
    ]) {
      assert.ok(!ignored.includes(needed), `.dockerignore must keep ${needed}`);
    }
  });
});

describe('the compose stack (deploy/compose.yaml)', () => {
  it('has PostgreSQL 15, a one-shot migrate service, the daemon, Prometheus and Grafana', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'daemon',
      'grafana',
      'migrate',
      'postgres',
      'prometheus',
    ]);
    assert.equal(service('postgres').image, 'postgres:15');
  });

  it('builds the daemon image from the repository root with deploy/docker/Dockerfile', () => {
    for (const name of ['migrate', 'daemon']) {
      const build = service(name).build;
      assert.ok(build, `${name} has a build section`);
      assert.ok(
        existsSync(join('deploy', build.context, build.dockerfile)),
        `${name}: ${build.dockerfile} exists under ${build.context}`,
      );
      assert.ok(
        existsSync(join('deploy', build.context, 'package.json')),
        `${name}: the context is the repository root`,
      );
    }
  });

  it('migrates once the database is healthy and starts the daemon only after migrating succeeded', () => {
    assert.deepEqual(service('migrate').command, ['migrate']);
    assert.deepEqual(service('migrate').depends_on, { postgres: { condition: 'service_healthy' } });
    assert.deepEqual(service('daemon').command, ['serve']);
    assert.deepEqual(service('daemon').depends_on, {
      migrate: { condition: 'service_completed_successfully' },
    });
  });

  it('passes the database URL and the API token from the environment, never as literals', () => {
    for (const name of ['migrate', 'daemon']) {
      const url = service(name).environment?.DATABASE_URL ?? '';
      assert.match(
        url,
        /^postgres:\/\/pipeline:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/pipeline$/,
        `${name} DATABASE_URL`,
      );
    }
    assert.match(
      service('daemon').environment?.PIPELINE_API_TOKEN ?? '',
      /^\$\{PIPELINE_API_TOKEN:\?[^}]*\}$/,
    );
    assert.match(
      service('postgres').environment?.POSTGRES_PASSWORD ?? '',
      /^\$\{POSTGRES_PASSWORD:\?[^}]*\}$/,
    );
  });

  it('keeps the daemon data folder on a named volume at PIPELINE_DATA_DIR', () => {
    const daemon = service('daemon');
    const dataDir = daemon.environment?.PIPELINE_DATA_DIR;
    assert.equal(dataDir, '/var/lib/pipeline');
    const mount = daemon.volumes?.find((v) => v.split(':')[1] === dataDir);
    assert.ok(mount, 'a volume is mounted at the data folder');
    assert.ok(mount.split(':')[0]! in compose.volumes, `${mount} is a named volume`);
  });

  it('mounts only files that exist in deploy/ into Prometheus, Grafana and PostgreSQL', () => {
    for (const name of ['postgres', 'prometheus', 'grafana']) {
      for (const volume of service(name).volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.'))
          assert.ok(existsSync(join('deploy', source)), `${name} mounts missing ${source}`);
      }
    }
    const prometheusMounts = service('prometheus').volumes ?? [];
    assert.ok(prometheusMounts.includes('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
    assert.ok(prometheusMounts.includes('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'));
  });

  it('points the Prometheus scrape job pipeline-daemon at the daemon service and port', () => {
    const config = readYaml<{
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        metrics_path?: string;
        static_configs: Array<{ targets: string[] }>;
      }>;
    }>('deploy/prometheus/prometheus.yml');
    assert.deepEqual(config.rule_files, ['/etc/prometheus/alerts.yml']);
    const job = config.scrape_configs.find((j) => j.job_name === 'pipeline-daemon');
    assert.ok(job, 'a pipeline-daemon job (the alert rules match on it)');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
    assert.deepEqual(
      job.static_configs.flatMap((s) => s.targets),
      [`daemon:${service('daemon').environment?.PORT}`],
    );
  });

  it('provisions Grafana with the Prometheus and PostgreSQL datasources the dashboards use', () => {
    const grafana = service('grafana');
    assert.ok(grafana.volumes?.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
    assert.ok(grafana.volumes?.includes('./grafana/dashboards:/var/lib/grafana/dashboards:ro'));
    const datasources = readYaml<{ datasources: Array<{ uid: string; type: string; url: string }> }>(
      'deploy/grafana/provisioning/datasources/pipeline.yaml',
    ).datasources;
    assert.deepEqual(
      datasources.map((d) => [d.uid, d.type]),
      [
        ['pipeline-prometheus', 'prometheus'],
        ['pipeline-postgres', 'grafana-postgresql-datasource'],
      ],
    );
    for (const variable of datasources.flatMap((d) => JSON.stringify(d).match(/\$\{(\w+)\}/g) ?? [])) {
      assert.ok(
        variable.slice(2, -1) in (grafana.environment ?? {}),
        `grafana's environment sets ${variable}`,
      );
    }
    const providers = readYaml<{ providers: Array<{ options: { path: string } }> }>(
      'deploy/grafana/provisioning/dashboards/pipeline.yaml',
    ).providers;
    assert.deepEqual(
      providers.map((p) => p.options.path),
      ['/var/lib/grafana/dashboards'],
    );
  });
});
