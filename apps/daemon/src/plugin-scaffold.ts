import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KERNEL_API_VERSION } from '../../../libs/kernel/index.js';

/** A plugin package's name, as `plugin new` takes it: npm's rules, scope allowed. */
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z][a-z0-9-]*$/;

export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
}

/**
 * Writes a plugin package (manifest, one stage, one migration, a README, and a test written with
 * the kit) into `dir`, which must not exist or be empty. Returns the files written.
 */
export function scaffoldPlugin(packageName: string, dir: string): string[] {
  if (!PACKAGE_NAME.test(packageName))
    throw new ScaffoldError(
      `plugin new: "${packageName}" is not a package name (lower-case, e.g. loyalty-points or @acme/loyalty-points)`,
    );
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0)
    throw new ScaffoldError(`plugin new: ${target} is not empty`);
  const stage = packageName.replace(/^@[^/]+\//, '');
  const schema = stage.replace(/-/g, '_');
  const className = stage.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
  const timestamp = '1766000000000';
  const major = KERNEL_API_VERSION.split('.')[0];
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(
      {
        name: packageName,
        version: '0.1.0',
        description: `The ${stage} stage, a pipeline daemon plugin`,
        type: 'module',
        exports: { '.': './dist/index.js' },
        files: ['dist', 'migrations', 'README.md'],
        scripts: { build: 'tsc -p tsconfig.json', test: 'npm run build && node --test dist/*.spec.js' },
        peerDependencies: { '@pipeline/kernel': `^${major}.0.0` },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          rootDir: 'src',
          outDir: 'dist',
          strict: true,
          experimentalDecorators: true,
          skipLibCheck: true,
          preserveSymlinks: true,
          types: ['node'],
        },
        include: ['src'],
      },
      null,
      2,
    )}\n`,
    [`migrations/0001-${stage}.sql`]: `-- The ${schema} schema, owned by this plugin: \`pipeline migrate\` applies it (docs/plugins.md).
CREATE SCHEMA ${schema};

CREATE TABLE ${schema}.processed_dates (
  run_date   date PRIMARY KEY,
  processed_at timestamptz NOT NULL DEFAULT now()
);
`,
    [`src/migrations/${timestamp}-${stage}.ts`]: `import { SqlFileMigration } from '@pipeline/kernel';

/** Creates the ${schema} schema. Never edit a released migration: add the next one. */
export class ${className}${timestamp} extends SqlFileMigration {
  readonly name = '${className}${timestamp}';
  protected readonly file = new URL('../../migrations/0001-${stage}.sql', import.meta.url);
}
`,
    [`src/${stage}.stage.ts`]: `import { Stage, type PipelineStage, type StageContext, type StageResult } from '@pipeline/kernel';

/** Records that the run's business date was processed; running it again for a date changes nothing. */
@Stage({ name: '${stage}', description: 'Records the business dates it processed' })
export class ${className}Stage implements PipelineStage {
  async run(ctx: StageContext): Promise<StageResult> {
    const written = await ctx.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        'INSERT INTO ${schema}.processed_dates (run_date) VALUES ($1) ON CONFLICT (run_date) DO NOTHING',
        [ctx.runDate],
      );
      return rowCount ?? 0;
    });
    return { rows: [{ table: '${schema}.processed_dates', written }] };
  }
}
`,
    'src/index.ts': `import { definePlugin } from '@pipeline/kernel';
import { ${className}${timestamp} } from './migrations/${timestamp}-${stage}.js';
import { ${className}Stage } from './${stage}.stage.js';

/** The manifest the daemon loads when its \`plugins:\` list names this package. */
export default definePlugin({
  name: '${packageName}',
  version: '0.1.0',
  kernelApi: '^${major}.0.0',
  stages: [${className}Stage],
  migrations: [${className}${timestamp}],
});
`,
    [`src/${stage}.stage.spec.ts`]: `import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestBed, type TestBed } from '@pipeline/kernel/testing';
import plugin from './index.js';

describe('${stage}', () => {
  let bed: TestBed;
  before(async () => {
    bed = await createTestBed({ plugins: [plugin] });
  });
  after(async () => bed?.dispose());

  it('records the business date once, however often it runs', async () => {
    for (let i = 0; i < 2; i++) {
      const outcome = await bed.runStage('${stage}', { runDate: '2025-03-01' });
      assert.equal(outcome.status, 'succeeded', outcome.error ?? '');
    }
    const { rows } = await bed.db.pool.query('SELECT run_date::text FROM ${schema}.processed_dates');
    assert.deepEqual(rows, [{ run_date: '2025-03-01' }]);
  });
});
`,
    'README.md': `# ${packageName}

A stage plugin for the pipeline daemon: stage \`${stage}\`, schema \`${schema}\`.

- \`npm run build\`, \`npm test\` (a fresh embedded database; \`TEST_DATABASE_URL\` for PostgreSQL).
- Install: \`npm pack\`, then beside the daemon \`npm install ./<tarball>\` and add
  \`${packageName}\` to \`plugins:\` in its config (or \`PIPELINE_PLUGINS\`).
- The contract this plugin relies on: the daemon's docs/plugins.md.
`,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(target, path, '..'), { recursive: true });
    writeFileSync(join(target, path), text);
  }
  return Object.keys(files);
}
