/**
 * `@pipeline/kernel/testing`: the test kit a plugin's tests are written with. It runs one stage,
 * or a whole plugin (its migrations included), the way the kernel runs them: on a fresh embedded
 * database, or on a fresh database of the PostgreSQL server that `TEST_DATABASE_URL` names; with
 * a fake clock (retries do not wait) and fault points (`checkpoint`s that crash or fail).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildConfig, Secret, type AppConfig } from '../config/index.js';
import {
  EmbeddedDatabase,
  migrate,
  PostgresDatabase,
  type Database,
  type MigrationClass,
} from '../database/index.js';
import { FaultPoints, parseFaultPoints } from '../kernel/fault-points.js';
import {
  pluginFromModule,
  pluginSchemaOwners,
  stageDeclarations,
  type LoadedPlugin,
} from '../kernel/plugin-loader.js';
import type { PluginManifest } from '../kernel/plugin.js';
import { stageContexts } from '../kernel/stage-contexts.js';
import { executeStages, type Clock, type ExecutionObserver } from '../kernel/stage-executor.js';
import { StageRegistry } from '../kernel/stage-registry.js';
import type { StageOutcome } from '../kernel/stage.js';
import { silentLogger } from '../logging/index.js';
import { PipelineMetrics } from '../metrics/index.js';

/** A clock whose sleeps end at once, moving its time on: retries and backoff cost no wall time. */
export class FakeClock implements Clock {
  private time: number;
  /** Every sleep asked for, in milliseconds, in order. */
  readonly sleeps: number[] = [];

  constructor(start: Date = new Date('2025-01-01T00:00:00Z')) {
    this.time = start.getTime();
  }

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw signal.reason as Error;
    this.sleeps.push(ms);
    this.time += ms;
  }
}

export interface TestBedOptions {
  /** The plugins under test (their manifests), and any they depend on. */
  readonly plugins: readonly PluginManifest[];
  /** Raw configuration (YAML shape): the plugins' sections, `pipeline.retry`, ... */
  readonly config?: Record<string, unknown>;
  /** Migrations to apply before the plugins' (a plugin reading the kernel's `pipeline` schema). */
  readonly kernelMigrations?: readonly MigrationClass[];
  /** Default: `TEST_DATABASE_URL`'s server when set, else embedded. */
  readonly database?: 'embedded' | 'postgres';
}

export interface RunOptions {
  readonly runDate?: string;
  /** `PIPELINE_FAULT_POINTS` syntax: `stage:point=crash|fail|pause`. */
  readonly faults?: string;
  readonly clock?: Clock;
  /** Outcomes of stages "before" this one in the run (what `ctx.outputOf` reads). */
  readonly earlierStages?: readonly StageOutcome[];
}

export interface TestBed {
  readonly db: Database;
  readonly config: AppConfig;
  readonly metrics: PipelineMetrics;
  readonly plugins: readonly LoadedPlugin[];
  /** Runs one stage (with its retries), as in a run; returns how it ended. */
  runStage(name: string, options?: RunOptions): Promise<StageOutcome>;
  /** Runs every stage of the plugins in dependency order, as a run does. */
  runPlugins(options?: RunOptions): Promise<StageOutcome[]>;
  /** Drops the database and the data folder. */
  dispose(): Promise<void>;
}

async function freshDatabase(
  kind: 'embedded' | 'postgres',
  dir: string,
): Promise<{ db: Database; drop: () => Promise<void> }> {
  if (kind === 'embedded') {
    const db = await EmbeddedDatabase.open({ dir: join(dir, 'db'), poolSize: 5 });
    return { db, drop: async () => undefined };
  }
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('a PostgreSQL test bed needs TEST_DATABASE_URL');
  const name = `kit_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const run = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = new PostgresDatabase({
    url: new Secret(url.toString()),
    poolSize: 5,
    statementTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
  });
  return { db, drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const quietObserver: ExecutionObserver = {
  stageStarted: async () => undefined,
  attemptStarted: async () => undefined,
  attemptFinished: async () => undefined,
  stageFinished: async () => undefined,
};

/** A fresh database with the plugins' migrations applied, and their stages ready to run. */
export async function createTestBed(options: TestBedOptions): Promise<TestBed> {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-bed-'));
  const raw = options.config ?? {};
  const config = buildConfig({
    ...raw,
    pipeline: { ...((raw.pipeline as object | undefined) ?? {}), data_dir: join(dir, 'data') },
  });
  const plugins = options.plugins.map((manifest) => pluginFromModule(manifest.name, { default: manifest }));
  const metrics = new PipelineMetrics({ defaultMetrics: false });
  for (const { manifest } of plugins) metrics.declarePluginMetrics(manifest.name, manifest.metrics ?? []);
  const registry = new StageRegistry(stageDeclarations(plugins), config);
  const { db, drop } = await freshDatabase(
    options.database ?? (process.env.TEST_DATABASE_URL ? 'postgres' : 'embedded'),
    dir,
  );
  try {
    await migrate(db, [
      ...(options.kernelMigrations ? [{ name: 'kernel', migrations: options.kernelMigrations }] : []),
      ...pluginSchemaOwners(plugins),
    ]);
  } catch (error) {
    await db.close().catch(() => undefined);
    await drop().catch(() => undefined);
    throw error;
  }

  const execute = (stages: readonly string[], run: RunOptions): Promise<StageOutcome[]> => {
    const controller = new AbortController();
    const context = stageContexts({
      run: { runId: randomUUID(), runDate: run.runDate ?? '2025-01-01', trigger: 'cli' },
      config,
      db,
      dataDir: config.dataDir,
      logger: silentLogger,
      metrics,
      fence: async () => undefined,
      faults: new FaultPoints(parseFaultPoints(run.faults)),
    });
    return executeStages({
      stages: registry.requireAll(stages),
      signal: controller.signal,
      observer: quietObserver,
      clock: run.clock ?? new FakeClock(),
      random: () => 0.5,
      contextFor: (stage, attempt, signal, earlier, gate) =>
        context(stage, attempt, signal, [...(run.earlierStages ?? []), ...earlier], gate),
    });
  };

  return {
    db,
    config,
    metrics,
    plugins,
    runStage: async (name, run = {}) => (await execute([name], run))[0]!,
    runPlugins: (run = {}) =>
      execute(
        registry.ordered.map((s) => s.name),
        run,
      ),
    dispose: async () => {
      await db.close().catch(() => undefined);
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
