/**
 * The container pattern of the example third-party plugin (examples/loyalty-points): an image
 * built FROM the daemon's that adds the package, and a Kustomize overlay of deploy/k8s that runs
 * that image with a configuration listing the package. Neither Docker nor a cluster runs here:
 * these specs read the files and check what the daemon's image and base rely on; `kubectl
 * kustomize` (when installed) proves the overlay builds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  RUNTIME_UID,
  dockerInstructions,
  readRepoFile,
  readYaml,
  readYamlDocuments,
  toolMissing,
} from './deploy-files.js';

const EXAMPLE = 'examples/loyalty-points';
const pkg = JSON.parse(readRepoFile(`${EXAMPLE}/package.json`)) as { name: string; version: string };
/** The file `npm pack` writes for the package: scope and name joined by a dash, then the version. */
const tarballPrefix = `${pkg.name.replace(/^@/, '').replace('/', '-')}-`;

const steps = dockerInstructions(readRepoFile(`${EXAMPLE}/Dockerfile`));
const of = (keyword: string) => steps.filter((s) => s.keyword === keyword);
const daemonSteps = dockerInstructions(readRepoFile('deploy/docker/Dockerfile'));

describe(`the example plugin's image (${EXAMPLE}/Dockerfile)`, () => {
  it('is one stage FROM the daemon image, whose name defaults to the one the k8s base uses', () => {
    assert.deepEqual(
      of('FROM').map((s) => s.args),
      ['${DAEMON_IMAGE}'],
    );
    const arg = of('ARG').find((s) => s.args.startsWith('DAEMON_IMAGE='));
    assert.ok(arg && arg.stage === -1, 'DAEMON_IMAGE is an ARG declared before FROM');
    const base = readYaml<{ images: Array<{ name: string }> }>('deploy/k8s/kustomization.yaml');
    assert.equal(arg.args.split('=')[1]!.split(':')[0], base.images[0]!.name);
  });

  it('copies the packed tarball and npm installs it beside the daemon, without dev dependencies', () => {
    const copies = of('COPY').map((s) => s.args);
    assert.equal(copies.length, 1);
    assert.ok(copies[0]!.startsWith(`${tarballPrefix}*.tgz `), copies[0]);
    const install = of('RUN')
      .map((s) => s.args)
      .find((a) => a.includes('npm install'));
    assert.ok(install, 'a RUN npm install');
    assert.match(install, new RegExp(`npm install [^&]*--omit=dev[^&]*/${tarballPrefix}\\*\\.tgz`));
    // npm install must run where the daemon's package.json is: the daemon image's WORKDIR.
    assert.deepEqual(of('WORKDIR'), []);
    assert.ok(daemonSteps.some((s) => s.keyword === 'WORKDIR' && s.args === '/app'));
  });

  it('installs as root and runs as the daemon does, keeping its entrypoint and command', () => {
    const users = of('USER').map((s) => s.args);
    assert.deepEqual(users, ['root', `${RUNTIME_UID}:${RUNTIME_UID}`]);
    const install = steps.findIndex((s) => s.keyword === 'RUN');
    const back = steps.findIndex((s) => s.keyword === 'USER' && s.args !== 'root');
    assert.ok(install < back, 'the install runs before the image goes back to the daemon user');
    assert.deepEqual([...of('ENTRYPOINT'), ...of('CMD')], []);
  });
});

describe(`the example plugin's Kubernetes overlay (${EXAMPLE}/k8s)`, () => {
  const overlay = `${EXAMPLE}/k8s`;
  const kustomization = readYaml<{
    resources: string[];
    configMapGenerator: Array<{ name: string; behavior?: string; files: string[] }>;
    images: Array<{ name: string; newName: string; newTag: string }>;
  }>(`${overlay}/kustomization.yaml`);

  it('overlays the daemon base, replacing its ConfigMap and its image', () => {
    assert.deepEqual(kustomization.resources, ['../../../deploy/k8s']);
    assert.ok(existsSync(join(overlay, kustomization.resources[0]!, 'kustomization.yaml')));
    const base = readYaml<{ configMapGenerator: Array<{ name: string }>; images: Array<{ name: string }> }>(
      'deploy/k8s/kustomization.yaml',
    );
    assert.deepEqual(kustomization.configMapGenerator, [
      { name: base.configMapGenerator[0]!.name, behavior: 'replace', files: ['config.yaml'] },
    ]);
    assert.deepEqual(
      kustomization.images.map((i) => i.name),
      [base.images[0]!.name],
    );
  });

  it("lists the package in a configuration that is the base's plus that one line", () => {
    const base = readRepoFile('deploy/k8s/config.yaml').split('\n');
    const ours = readRepoFile(`${overlay}/config.yaml`).split('\n');
    const line = `  - '${pkg.name}'`;
    assert.equal(ours.filter((l) => l === line).length, 1);
    assert.deepEqual(
      ours.filter((l) => l !== line),
      base,
    );
    const plugins = readYaml<{ plugins: string[] }>(`${overlay}/config.yaml`).plugins;
    assert.equal(plugins.at(-1), pkg.name);
  });

  it(
    'builds with kubectl kustomize: both the Deployment and the migrate Job run the new image with the new ConfigMap',
    { skip: toolMissing('kubectl', ['version', '--client']) },
    () => {
      const result = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const built = readYamlDocuments(result.stdout) as Array<{
        kind: string;
        metadata: { name: string };
        data?: Record<string, string>;
        spec: {
          template?: {
            spec: {
              containers: Array<{ image: string }>;
              volumes?: Array<{ name: string; configMap?: { name: string } }>;
            };
          };
        };
      }>;
      const configMaps = built.filter((m) => m.kind === 'ConfigMap');
      assert.equal(configMaps.length, 1);
      assert.equal(configMaps[0]!.data?.['config.yaml'], readRepoFile(`${overlay}/config.yaml`));
      const image = `${kustomization.images[0]!.newName}:${kustomization.images[0]!.newTag}`;
      for (const kind of ['Deployment', 'Job']) {
        const spec = built.find((m) => m.kind === kind)!.spec.template!.spec;
        assert.deepEqual(
          spec.containers.map((c) => c.image),
          [image],
          kind,
        );
        assert.equal(
          spec.volumes?.find((v) => v.name === 'config')?.configMap?.name,
          configMaps[0]!.metadata.name,
        );
      }
    },
  );
});
