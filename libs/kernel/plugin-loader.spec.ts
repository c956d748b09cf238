import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { buildConfig } from '../config/index.js';
import { KERNEL_API_VERSION } from './api-version.js';
import { loadPlugins, PluginLoadError, stageDeclarations } from './plugin-loader.js';
import { StageRegistry, StageRegistryError } from './stage-registry.js';

/**
 * A folder of plugin packages as a third party would ship them: plain ESM with a package.json,
 * reaching the kernel API through its package name (linked to this repository's build).
 */
function packagesFolder(): { root: string; add(folder: string, pkg: object, source: string): string } {
  const root = mkdtempSync(join(tmpdir(), 'plugin-packages-'));
  mkdirSync(join(root, 'node_modules', '@pipeline'), { recursive: true });
  symlinkSync(resolve('libs'), join(root, 'node_modules', '@pipeline', 'kernel'));
  return {
    root,
    add(folder, pkg, source) {
      mkdirSync(join(root, folder));
      writeFileSync(join(root, folder, 'package.json'), JSON.stringify({ type: 'module', ...pkg }));
      writeFileSync(join(root, folder, 'index.js'), source);
      return `./${folder}`;
    },
  };
}

/** A plugin module declaring stages `names` (each `name` or `name<-dependency`). */
function pluginSource(
  name: string,
  version: string,
  kernelApi: string,
  stages: string[],
  reads: string[] = [],
): string {
  const classes = stages.map((spec, i) => {
    const [stage, dependency] = spec.split('<-');
    const dependsOn = dependency ? `, dependsOn: ['${dependency}']` : '';
    return `class S${i} { async run() { return {}; } }
Stage({ name: '${stage}', description: '${stage}'${dependsOn} })(S${i});`;
  });
  return `import { Stage, definePlugin } from '@pipeline/kernel';
${classes.join('\n')}
export default definePlugin({ name: '${name}', version: '${version}', kernelApi: '${kernelApi}',
  stages: [${stages.map((_, i) => `S${i}`).join(', ')}], reads: ${JSON.stringify(reads)} });
`;
}

async function refusal(entries: string[], cwd: string): Promise<string> {
  const error = await loadPlugins(entries, cwd).then(
    () => assert.fail('expected the plugins to be refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PluginLoadError, `a PluginLoadError, not ${String(error)}`);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  return error.message;
}

describe('loading plugins', () => {
  it('loads a package folder given by path, with its manifest and stages', async () => {
    const pkgs = packagesFolder();
    const entry = pkgs.add(
      'loyalty',
      { name: '@acme/loyalty' },
      pluginSource('@acme/loyalty', '1.2.0', '^1.0.0', ['loyalty-points']),
    );
    const [plugin] = await loadPlugins([entry], pkgs.root);
    assert.equal(plugin!.manifest.name, '@acme/loyalty');
    assert.equal(plugin!.manifest.version, '1.2.0');
    assert.deepEqual(
      stageDeclarations([plugin!]).map((d) => [d.options.name, d.plugin]),
      [['loyalty-points', '@acme/loyalty']],
    );
  });

  it('loads a built-in plugin by its package name, like any other', async () => {
    const [plugin] = await loadPlugins(['@pipeline/plugin-cleanup']);
    assert.equal(plugin!.manifest.name, '@pipeline/plugin-cleanup');
    assert.deepEqual(
      stageDeclarations([plugin!]).map((d) => d.options.name),
      ['cleanup'],
    );
  });

  it('refuses a plugin written for an incompatible kernel API, naming package, version, range and kernel version', async () => {
    const pkgs = packagesFolder();
    const entry = pkgs.add(
      'future',
      { name: '@acme/future' },
      pluginSource('@acme/future', '2.1.0', '^2.0.0', ['future']),
    );
    assert.equal(
      await refusal([entry], pkgs.root),
      `plugin @acme/future 2.1.0 supports kernel API ^2.0.0; this kernel's API is ${KERNEL_API_VERSION}`,
    );
  });

  it('stops with one line naming a plugin whose import throws', async () => {
    const pkgs = packagesFolder();
    const entry = pkgs.add(
      'broken',
      { name: '@acme/broken' },
      "throw new Error('no LOYALTY_API_URL set\\n  at somewhere');\n",
    );
    assert.equal(
      await refusal([entry], pkgs.root),
      `plugin ${entry} could not be loaded: no LOYALTY_API_URL set`,
    );
  });

  it('stops naming a plugin that is not installed', async () => {
    assert.match(
      await refusal(['@acme/not-installed'], process.cwd()),
      /^plugin @acme\/not-installed could not be loaded: Cannot find package/,
    );
  });

  it('refuses a manifest that fails validation, naming the plugin and the key', async () => {
    const pkgs = packagesFolder();
    const undecorated = pkgs.add(
      'undecorated',
      { name: '@acme/undecorated' },
      "export default { name: '@acme/undecorated', version: '1.0.0', kernelApi: '^1.0.0', stages: [class Plain {}] };\n",
    );
    assert.equal(
      await refusal([undecorated], pkgs.root),
      `plugin ${undecorated}: invalid manifest: stages.0: expected a class decorated with @Stage`,
    );
    const badRange = pkgs.add(
      'bad-range',
      { name: '@acme/bad-range' },
      pluginSource('@acme/bad-range', '1.0.0', 'one point oh', ['x']),
    );
    assert.equal(
      await refusal([badRange], pkgs.root),
      `plugin ${badRange}: invalid manifest: kernelApi: expected a semver range such as ^1.0.0`,
    );
    const none = pkgs.add('no-manifest', { name: '@acme/no-manifest' }, 'export const stages = [];\n');
    assert.equal(
      await refusal([none], pkgs.root),
      `plugin ${none}: invalid manifest: no default export (its manifest)`,
    );
  });

  it('refuses two packages declaring the same stage name, naming both', async () => {
    const pkgs = packagesFolder();
    const a = pkgs.add(
      'a',
      { name: '@acme/exports' },
      pluginSource('@acme/exports', '1.0.0', '^1.0.0', ['lake-export']),
    );
    const b = pkgs.add(
      'b',
      { name: '@other/exports' },
      pluginSource('@other/exports', '3.0.0', '^1.0.0', ['lake-export']),
    );
    assert.equal(
      await refusal([a, b], pkgs.root),
      'stage "lake-export" is declared by two plugins: @acme/exports and @other/exports',
    );
  });

  it('makes the dependents of a plugin removed from the list fail validation by name', async () => {
    const pkgs = packagesFolder();
    const kept = pkgs.add(
      'points',
      { name: '@acme/points' },
      pluginSource('@acme/points', '1.0.0', '^1.0.0', ['loyalty-points<-loyalty-source']),
    );
    const plugins = await loadPlugins([kept], pkgs.root);
    assert.throws(
      () => new StageRegistry(stageDeclarations(plugins), buildConfig({})),
      (error: unknown) =>
        error instanceof StageRegistryError &&
        error.message === 'stage "loyalty-points" (@acme/points) depends on unknown stage "loyalty-source"',
    );
  });

  it('refuses a plugin that reads the tables of a package not loaded, naming both; loads it beside that package', async () => {
    const pkgs = packagesFolder();
    const owner = pkgs.add(
      'orders',
      { name: '@acme/orders' },
      pluginSource('@acme/orders', '1.0.0', '^1.0.0', ['orders<-orders-gate']),
    );
    // The gate runs before the stage that owns the tables it compares its input with.
    const gate = pkgs.add(
      'gate',
      { name: '@acme/orders-gate' },
      pluginSource('@acme/orders-gate', '1.0.0', '^1.0.0', ['orders-gate'], ['@acme/orders']),
    );
    assert.equal(
      await refusal([gate], pkgs.root),
      'plugin @acme/orders-gate reads the tables of @acme/orders, which is not loaded: add @acme/orders to plugins:, or remove @acme/orders-gate',
    );
    const both = await loadPlugins([gate, owner], pkgs.root);
    assert.deepEqual(
      both.map((p) => p.manifest.name),
      ['@acme/orders-gate', '@acme/orders'],
    );
  });

  it('refuses a manifest whose reads are not package names', async () => {
    const pkgs = packagesFolder();
    const odd = pkgs.add(
      'odd',
      { name: '@acme/odd' },
      pluginSource('@acme/odd', '1.0.0', '^1.0.0', ['odd'], ['production.business_dates ']),
    );
    assert.match(
      await refusal([odd], pkgs.root),
      /^plugin \.\/odd: invalid manifest: reads\.0: expected an npm package name$/,
    );
  });
});
