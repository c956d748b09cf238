import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { buildConfig, ConfigError } from '../config/index.js';
import { StageRegistry, StageRegistryError, type StageDeclaration } from './stage-registry.js';
import type { StageOptions } from './stage.js';

const noop = { run: async () => ({}) };

function stage(name: string, more: Partial<StageOptions> & { source?: string } = {}): StageDeclaration {
  const { source, ...options } = more;
  return {
    options: { name, description: `${name} stage`, ...options },
    instance: noop,
    source: source ?? `${name}Stage`,
  };
}

const config = buildConfig({});
const names = (registry: StageRegistry): string[] => registry.ordered.map((s) => s.name);

describe('stage registry', () => {
  it('refuses a duplicate stage name, naming both plugins', () => {
    assert.throws(
      () =>
        new StageRegistry(
          [stage('load', { source: 'LoadStage' }), stage('load', { source: 'OtherLoadStage' })],
          config,
        ),
      (e: unknown) =>
        e instanceof StageRegistryError &&
        e.message === 'duplicate stage name "load": declared by LoadStage and by OtherLoadStage',
    );
  });

  it('refuses a dependency on an unknown stage, naming the plugin and the dependency', () => {
    assert.throws(
      () =>
        new StageRegistry(
          [stage('extract'), stage('report', { dependsOn: ['extract', 'transform'], source: 'ReportStage' })],
          config,
        ),
      (e: unknown) =>
        e instanceof StageRegistryError &&
        e.message === 'stage "report" (ReportStage) depends on unknown stage "transform"',
    );
  });

  it('refuses a dependency cycle, showing the cycle', () => {
    assert.throws(
      () =>
        new StageRegistry(
          [
            stage('a', { dependsOn: ['c'] }),
            stage('b', { dependsOn: ['a'] }),
            stage('c', { dependsOn: ['b'] }),
            stage('d'),
          ],
          config,
        ),
      (e: unknown) => e instanceof StageRegistryError && e.message === 'dependency cycle: a -> c -> b -> a',
    );
  });

  it('refuses a stage that depends on itself', () => {
    assert.throws(
      () => new StageRegistry([stage('loop', { dependsOn: ['loop'] })], config),
      /dependency cycle: loop -> loop/,
    );
  });

  it('refuses a stage name that is not kebab-case, naming the plugin', () => {
    assert.throws(
      () => new StageRegistry([stage('Load_Data', { source: 'LoadDataStage' })], config),
      /stage "Load_Data" \(LoadDataStage\): a stage name is lower-case kebab-case/,
    );
  });

  it('orders dependencies first and otherwise keeps the order the plugins were listed in', () => {
    const declarations = [
      stage('report', { dependsOn: ['load'] }),
      stage('extract'),
      stage('load', { dependsOn: ['extract'] }),
      stage('audit'),
      stage('publish', { dependsOn: ['report', 'audit'] }),
    ];
    assert.deepEqual(names(new StageRegistry(declarations, config)), [
      'extract',
      'load',
      'report',
      'audit',
      'publish',
    ]);
  });

  it('gives the same order for the same declarations every time', () => {
    const declarations = [
      stage('z'),
      stage('y', { dependsOn: ['z'] }),
      stage('x'),
      stage('w', { dependsOn: ['x'] }),
    ];
    const first = names(new StageRegistry(declarations, config));
    for (let i = 0; i < 5; i++) assert.deepEqual(names(new StageRegistry(declarations, config)), first);
    assert.deepEqual(first, ['z', 'y', 'x', 'w']);
  });

  it('merges the retry policy: config over the stage declaration over the defaults', () => {
    const registry = new StageRegistry(
      [stage('a', { retry: { attempts: 5, baseDelayMs: 10 }, timeoutMs: 500 }), stage('b')],
      buildConfig({
        pipeline: {
          retry: { attempts: 2, base_delay_ms: 100, max_delay_ms: 1000, jitter: 0 },
          stages: { a: { retry: { attempts: 7 } }, b: { timeout_ms: 42, enabled: false } },
        },
      }),
    );
    assert.deepEqual(registry.get('a')!.retry, { attempts: 7, baseDelayMs: 10, maxDelayMs: 1000, jitter: 0 });
    assert.equal(registry.get('a')!.timeoutMs, 500);
    assert.equal(registry.get('a')!.enabled, true);
    assert.deepEqual(registry.get('b')!.retry, {
      attempts: 2,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      jitter: 0,
    });
    assert.equal(registry.get('b')!.timeoutMs, 42);
    assert.equal(registry.get('b')!.enabled, false);
  });

  it('names every unknown stage asked for by name', () => {
    const registry = new StageRegistry([stage('extract'), stage('load')], config);
    assert.throws(
      () => registry.requireAll(['load', 'nope', 'other']),
      /unknown stages: nope, other \(known: extract, load\)/,
    );
    assert.deepEqual(
      registry.requireAll(['load', 'extract']).map((s) => s.name),
      ['load', 'extract'],
    );
  });
});

describe('stage configuration', () => {
  const settingsSchema = z
    .object({
      batch_size: z.number().int().min(1).default(100),
      limits: z
        .object({ max_rows: z.number().int().min(0).default(10) })
        .strict()
        .prefault({}),
    })
    .strict();
  const withSettings = (): StageDeclaration =>
    stage('loader', { config: { key: 'loader', schema: settingsSchema }, source: 'LoaderStage' });

  it('refuses an unknown top-level section, naming the key', () => {
    assert.throws(
      () => new StageRegistry([withSettings()], buildConfig({ retension: { raw_days: 3 } })),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'retension' &&
        /^Invalid configuration: retension: unknown section/.test(e.message),
    );
  });

  it('accepts a top-level section claimed by a plugin and hands the stage its validated settings', () => {
    const registry = new StageRegistry([withSettings()], buildConfig({ loader: { batch_size: 5 } }));
    assert.deepEqual(registry.get('loader')!.settings, { batch_size: 5, limits: { max_rows: 10 } });
  });

  it('validates a plugin section with its schema, naming key.path', () => {
    assert.throws(
      () => new StageRegistry([withSettings()], buildConfig({ loader: { limits: { max_rows: -1 } } })),
      (e: unknown) => e instanceof ConfigError && e.key === 'loader.limits.max_rows',
    );
    assert.throws(
      () => new StageRegistry([withSettings()], buildConfig({ loader: { batch_size: 'many' } })),
      (e: unknown) => e instanceof ConfigError && e.key === 'loader.batch_size',
    );
    assert.throws(
      () => new StageRegistry([withSettings()], buildConfig({ loader: { limits: { max_row: 1 } } })),
      (e: unknown) =>
        e instanceof ConfigError && e.key === 'loader.limits.max_row' && /unknown key/.test(e.message),
    );
  });

  it('refuses settings under pipeline.stages for a stage that does not exist', () => {
    assert.throws(
      () =>
        new StageRegistry(
          [stage('extract')],
          buildConfig({ pipeline: { stages: { extrakt: { enabled: false } } } }),
        ),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.key === 'pipeline.stages.extrakt' &&
        /no such stage \(known: extract\)/.test(e.message),
    );
  });
});
