/**
 * The workspace packages meet only through their names: the repository's lint configuration
 * rejects a relative import that leaves a package, and each built-in plugin declares the kernel
 * API it is written against as a peer dependency.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import semver from 'semver';
import { KERNEL_API_VERSION } from '@pipeline/kernel';

const eslint = new ESLint({ cwd: process.cwd() });

async function boundaryErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'pipeline/package-boundaries')
    .map((m) => m.message);
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('package boundaries', () => {
  it('rejects a plugin reaching into the kernel by a relative path', async () => {
    const errors = await boundaryErrors(
      "import { sqlFile } from '../../libs/kernel/index.js';\nexport const f = sqlFile;\n",
      'plugins/warehouse/boundary-probe.ts',
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /leaves the package plugins\/warehouse for libs/);
  });

  it('rejects a plugin importing another plugin by a relative path', async () => {
    const errors = await boundaryErrors(
      "export { WarehouseStage } from '../warehouse/index.js';\n",
      'plugins/analytics/boundary-probe.ts',
    );
    assert.equal(errors.length, 1);
  });

  it("rejects a plugin's spec or fixtures reaching into the repository's test support", async () => {
    for (const file of [
      'plugins/warehouse/boundary-probe.spec.ts',
      'plugins/warehouse/boundary-probe.fixtures.ts',
    ]) {
      const errors = await boundaryErrors(
        "import { freshPostgres } from '../../test/support/databases.js';\nexport const f = freshPostgres;\n",
        file,
      );
      assert.equal(errors.length, 1, file);
      assert.match(errors[0]!, /leaves the package plugins\/warehouse for \./);
    }
  });

  it('accepts a spec that takes the kernel and its upstream plugins by package name', async () => {
    const errors = await boundaryErrors(
      "import { createTestBed } from '@pipeline/kernel/testing';\nimport production from '@pipeline/plugin-production-etl';\nimport warehouse from './index.js';\nexport const f = [createTestBed, production, warehouse];\n",
      'plugins/warehouse/boundary-probe.spec.ts',
    );
    assert.deepEqual(errors, []);
  });

  it('accepts relative imports inside a package and imports by package name', async () => {
    const errors = await boundaryErrors(
      "import { sqlFile } from '@pipeline/kernel';\nimport { x } from './sub/x.js';\nexport const f = [sqlFile, x];\n",
      'plugins/warehouse/boundary-probe.ts',
    );
    assert.deepEqual(errors, []);
  });

  it('declares the kernel API version the package is published as', () => {
    assert.equal(KERNEL_API_VERSION, readJson('libs/package.json').version);
  });

  it('has every built-in plugin accept the kernel API version through a peer dependency', () => {
    const kernel = readJson('libs/package.json');
    for (const name of readdirSync('plugins')) {
      const pkg = readJson(join('plugins', name, 'package.json'));
      const range = (pkg.peerDependencies as Record<string, string>)['@pipeline/kernel'];
      assert.ok(range, `${name} declares a peer dependency on @pipeline/kernel`);
      assert.ok(
        semver.satisfies(String(kernel.version), range),
        `${name}: ${range} accepts ${kernel.version}`,
      );
    }
  });
});
