/**
 * `@pipeline/kernel/testing`: the test kit a plugin's tests are written with. It runs one stage,
 * or a whole plugin (its migrations included), the way the kernel runs them: on a fresh embedded
 * database, or on a fresh database of the PostgreSQL server that `TEST_DATABASE_URL` names; with
 * a fake clock (retries do not wait) and fault points (`checkpoint`s that crash or fail). A test
 * that calls a stage's `run` itself takes the stage's context from `bed.context(name)`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildConfig, parseSection, Secret, type AppConfig } from '../config/index.js';
import { migrations as kernelMigrations } from '@pipeline/kernel-schema';
import {
  EmbeddedDatabase,
  KERNEL_SCHEMA_OWNER,
  migrate,
  PostgresDatabase,
  type Database,
} from '../database/index.js';
import { FaultPoints, parseFaultPoints } from '../kernel/fault-points.js';
import {
  assertDistinct,
  assertReadsLoaded,
  pluginFromModule,
  pluginSchemaOwners,
  stageDeclarations,
  type LoadedPlugin,
} from '../kernel/plugin-loader.js';
import type { PluginManifest, StageClass } from '../kernel/plugin.js';
import { stageOptionsOf } from '../kernel/stage.decorator.js';
import { RUN_REPORT_FOLDER, stageContexts } from '../kernel/stage-contexts.js';
import { executeStages, type Clock, type ExecutionObserver } from '../kernel/stage-executor.js';
import { StageRegistry } from '../kernel/stage-registry.js';
import type { StageContext, StageOutcome } from '../kernel/stage.js';
import { silentLogger } from '../logging/index.js';
import { PipelineMetrics } from '../metrics/index.js';

export type { Database } from '../database/index.js';
export type { PipelineMetrics } from '../metrics/index.js';

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
  /** The plugins under test (their manifests), and every plugin whose stages theirs depend on. */
  readonly plugins: readonly PluginManifest[];
  /** Raw configuration (YAML shape): the plugins' sections, `pipeline.retry`, ... */
  readonly config?: Record<string, unknown>;
  /**
   * Default: `TEST_DATABASE_URL`'s server when set, else embedded. `postgres` asks for a server
   * even without it (`TEST_DATABASE_URL`, else the local one): skip such a test with
   * `postgresUnavailable()` for machines that have none.
   */
  readonly database?: 'embedded' | 'postgres';
  /** Connections the database opens at most (default 5). */
  readonly poolSize?: number;
  /** Embedded only: the size of the chunks COPY hands the database (default: the database's). */
  readonly copyChunkBytes?: number;
}

/** What a stage is given besides its plugin's services: the run it is part of. */
export interface RunOptions {
  readonly runDate?: string;
  /** Default: a fresh id per run (per context). */
  readonly runId?: string;
  /** `PIPELINE_FAULT_POINTS` syntax: `stage:point=crash|fail|pause`. */
  readonly faults?: string;
  readonly clock?: Clock;
  /** Outcomes of stages "before" this one in the run (what `ctx.outputOf` reads). */
  readonly earlierStages?: readonly StageOutcome[];
  /** Per stage, the latest business date before this run's on which it succeeded (default: none). */
  readonly succeededBefore?: Readonly<Record<string, string>>;
  /**
   * Raw configuration (YAML shape) for this run only, in place of the bed's: each stage's
   * settings are its section of it, validated by its schema as at start-up.
   */
  readonly config?: Record<string, unknown>;
  /** The data folder for this run only (default: the bed's, `config.dataDir`). */
  readonly dataDir?: string;
  /** Aborts the stage as a stop or a lost lock would. */
  readonly signal?: AbortSignal;
  /** The database the stage works on, in place of the bed's: `unreachableDatabase()`, say. */
  readonly db?: Database;
}

export interface TestBed {
  /** The bed's database, for setting up rows and asserting on them (`db.pool.query`). */
  readonly db: Database;
  /** A PostgreSQL bed's database URL, for a client or a process of its own; null when embedded. */
  readonly url: string | null;
  readonly config: AppConfig;
  /** The registry behind every stage's `ctx.metrics`: `metrics.forPlugin(name).get(def)`, `render()`. */
  readonly metrics: PipelineMetrics;
  readonly plugins: readonly LoadedPlugin[];
  /** Runs one stage (with its retries), as in a run; returns how it ended. */
  runStage(name: string, options?: RunOptions): Promise<StageOutcome>;
  /** Runs every stage of the plugins in dependency order, as a run does. */
  runPlugins(options?: RunOptions): Promise<StageOutcome[]>;
  /**
   * The context stage `name` gets on its first attempt of a run, for calling the stage's `run`
   * directly: what it returns or throws reaches the test as it is, with no retry.
   */
  context<S = unknown>(name: string, options?: RunOptions): StageContext<S>;
  /**
   * A new, empty data folder inside the bed (removed with it): pass it as `dataDir` to a run that
   * must not see the files earlier runs left in the bed's own.
   */
  newDataDir(): string;
  /** Sets every metric back to zero, for a test that asserts on what one run recorded. */
  resetMetrics(): void;
  /** Applies the kernel's and the plugins' migrations not applied yet; returns their names. */
  migrate(): Promise<string[]>;
  /** Drops the database and the data folder. */
  dispose(): Promise<void>;
}

/**
 * The settings `stage` gets from raw configuration (YAML shape): its section, validated by its
 * schema as at start-up, where a bad value throws naming `key.path`. No database, no bed.
 */
export function stageSettings<S = unknown>(stage: StageClass, config: Record<string, unknown> = {}): S {
  const options = stageOptionsOf(stage);
  if (!options) throw new Error(`${stage.name} is not a stage: it has no @Stage decorator`);
  return (
    options.config ? parseSection(buildConfig(config), options.config.key, options.config.schema) : undefined
  ) as S;
}

/** The server a PostgreSQL test bed creates its database on. */
const serverUrl = (): string =>
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function onServer(sql: string, connectionTimeoutMillis?: number): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl(), connectionTimeoutMillis });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let probe: Promise<false | string> | undefined;
/**
 * Why a `database: 'postgres'` bed cannot be made here (no server answers), or false: use as
 * `describe(name, { skip: await postgresUnavailable() }, ...)`.
 */
export function postgresUnavailable(): Promise<false | string> {
  probe ??= onServer('SELECT 1', 2_000).then(
    () => false as const,
    () => `needs a PostgreSQL server (TEST_DATABASE_URL=${serverUrl()} is not reachable)`,
  );
  return probe;
}

async function freshDatabase(
  kind: 'embedded' | 'postgres',
  dir: string,
  options: TestBedOptions,
): Promise<{ db: Database; url: string | null; drop: () => Promise<void> }> {
  const poolSize = options.poolSize ?? 5;
  if (kind === 'embedded') {
    const db = await EmbeddedDatabase.open({
      dir: join(dir, 'db'),
      poolSize,
      ...(options.copyChunkBytes ? { copyChunkBytes: options.copyChunkBytes } : {}),
    });
    return { db, url: null, drop: async () => undefined };
  }
  const name = `kit_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await onServer(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  const db = new PostgresDatabase({
    url: new Secret(url.toString()),
    poolSize,
    statementTimeoutMs: 60_000,
    connectTimeoutMs: 5_000,
  });
  return { db, url: url.toString(), drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * A PostgreSQL database no connection reaches (nothing listens on its port): what a stage sees
 * when the server is down. Close it after the test.
 */
export function unreachableDatabase(): Database {
  return new PostgresDatabase({
    url: new Secret('postgres://postgres@127.0.0.1:1/unreachable'),
    poolSize: 2,
    statementTimeoutMs: 1_000,
    connectTimeoutMs: 1_000,
  });
}

const quietObserver: ExecutionObserver = {
  stageStarted: async () => undefined,
  attemptStarted: async () => undefined,
  attemptFinished: async () => undefined,
  stageFinished: async () => undefined,
};

/** Raw configuration with its data folder set: a bed never writes outside its own folder. */
function configIn(raw: Record<string, unknown>, dataDir: string): AppConfig {
  return buildConfig({
    ...raw,
    pipeline: { ...((raw.pipeline as object | undefined) ?? {}), data_dir: dataDir },
  });
}

/**
 * A fresh database with the kernel's `pipeline` schema and the plugins' migrations applied, as
 * `pipeline migrate` leaves it, and the plugins' stages ready to run.
 */
export async function createTestBed(options: TestBedOptions): Promise<TestBed> {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-bed-'));
  const raw = options.config ?? {};
  const config = configIn(raw, join(dir, 'data'));
  const plugins = options.plugins.map((manifest) => pluginFromModule(manifest.name, { default: manifest }));
  // Checked as at start-up, so that a bed missing a plugin fails as the daemon would.
  assertDistinct(plugins);
  assertReadsLoaded(plugins);
  const metrics = new PipelineMetrics({ defaultMetrics: false });
  for (const { manifest } of plugins) metrics.declarePluginMetrics(manifest.name, manifest.metrics ?? []);
  const declarations = stageDeclarations(plugins);
  const registry = new StageRegistry(declarations, config);
  const owners = [
    { name: KERNEL_SCHEMA_OWNER, migrations: kernelMigrations },
    ...pluginSchemaOwners(plugins),
  ];
  const { db, url, drop } = await freshDatabase(
    options.database ?? (process.env.TEST_DATABASE_URL ? 'postgres' : 'embedded'),
    dir,
    options,
  );
  try {
    await migrate(db, owners);
  } catch (error) {
    await db.close().catch(() => undefined);
    await drop().catch(() => undefined);
    throw error;
  }

  /**
   * The contexts of one run of `stages`: its configuration, folders and faults, as the run service
   * makes them (the folders of the stages it runs only).
   */
  const runOf = (run: RunOptions, stages: readonly string[]) => {
    const runConfig =
      run.config || run.dataDir ? configIn(run.config ?? raw, run.dataDir ?? config.dataDir) : config;
    const runRegistry = runConfig === config ? registry : new StageRegistry(declarations, runConfig);
    const folders = runRegistry.requireAll(stages).flatMap((s) => s.dataFolder ?? []);
    for (const folder of [RUN_REPORT_FOLDER, ...folders])
      mkdirSync(join(runConfig.dataDir, folder), { recursive: true });
    const contextFor = stageContexts({
      run: { runId: run.runId ?? randomUUID(), runDate: run.runDate ?? '2025-01-01', trigger: 'cli' },
      config: runConfig,
      db: run.db ?? db,
      dataDir: runConfig.dataDir,
      logger: silentLogger,
      metrics,
      fence: async () => undefined,
      faults: new FaultPoints(parseFaultPoints(run.faults)),
      succeededBefore: new Map(Object.entries(run.succeededBefore ?? {})),
    });
    return { registry: runRegistry, contextFor };
  };

  const execute = (stages: readonly string[], run: RunOptions): Promise<StageOutcome[]> => {
    const { registry: runRegistry, contextFor } = runOf(run, stages);
    return executeStages({
      stages: runRegistry.requireAll(stages),
      signal: run.signal ?? new AbortController().signal,
      observer: quietObserver,
      clock: run.clock ?? new FakeClock(),
      random: () => 0.5,
      contextFor: (stage, attempt, signal, earlier, gate) =>
        contextFor(stage, attempt, signal, [...(run.earlierStages ?? []), ...earlier], gate),
    });
  };

  return {
    db,
    url,
    config,
    metrics,
    plugins,
    runStage: async (name, run = {}) => (await execute([name], run))[0]!,
    runPlugins: (run = {}) =>
      execute(
        registry.ordered.map((s) => s.name),
        run,
      ),
    context: <S>(name: string, run: RunOptions = {}) => {
      const { registry: runRegistry, contextFor } = runOf(run, [name]);
      const [stage] = runRegistry.requireAll([name]);
      const signal = run.signal ?? new AbortController().signal;
      return contextFor(stage!, 1, signal, run.earlierStages ?? [], null) as StageContext<S>;
    },
    newDataDir: () => mkdtempSync(join(dir, 'data-')),
    resetMetrics: () => metrics.registry.resetMetrics(),
    migrate: () => migrate(db, owners),
    dispose: async () => {
      await db.close().catch(() => undefined);
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
