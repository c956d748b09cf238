import { existsSync, readFileSync } from 'node:fs';
import { loadConfig, type AppConfig } from '../../../libs/config/index.js';
import { migrate, openDatabase, type Database } from '../../../libs/database/index.js';
import { loadPlugins, type KernelRuntime } from '../../../libs/kernel/index.js';
import { createLogger, type Logger } from '../../../libs/logging/index.js';
import { PipelineMetrics } from '../../../libs/metrics/index.js';
import { defaultPlugins } from './plugins.js';
import { schemaOwners } from './schema.js';

/** The version a run records: the git commit the build was made from, else the package version. */
export function codeVersion(): string {
  if (process.env.PIPELINE_CODE_VERSION) return process.env.PIPELINE_CODE_VERSION;
  const info = new URL('../../../build-info.json', import.meta.url);
  if (existsSync(info)) {
    const { version, commit } = JSON.parse(readFileSync(info, 'utf8')) as {
      version: string;
      commit: string | null;
    };
    return commit ? `${version}+${commit.slice(0, 12)}` : version;
  }
  return 'unknown';
}

export interface RuntimeOptions {
  /** Apply pending migrations now (serve: `database.migrate_on_start`; CLI run commands: always). */
  readonly migrate: boolean;
  readonly applicationName: string;
  /** Logs go to stderr for commands whose stdout is data (`runs --json`). */
  readonly logDestination?: NodeJS.WritableStream;
}

/** Config, plugins, logger, metrics and an open (migrated) database: everything Nest's modules receive. */
export async function createRuntime(
  options: RuntimeOptions,
  config: AppConfig = loadConfig(),
): Promise<KernelRuntime> {
  // Before the database is opened: a plugin that cannot be used stops start-up with its own
  // one-line reason, whatever state the database is in.
  const plugins = await loadPlugins(config.plugins ?? defaultPlugins);
  const logger: Logger = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    secrets: config.secrets,
    destination: options.logDestination,
  });
  const metrics = new PipelineMetrics();
  const db: Database = await openDatabase(config, options.applicationName);
  try {
    if (options.migrate) {
      const applied = await migrate(db, schemaOwners(plugins));
      if (applied.length) logger.info('migrations applied', { migrations: applied });
    }
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  // Connections open lazily: plugin configuration is validated (at module init) before the
  // database is first touched, so a config mistake is reported as such even when it is down.
  logger.info('database configured', { database: db.description });
  return { config, db, logger, metrics, codeVersion: codeVersion(), plugins };
}
