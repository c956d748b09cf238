import { join } from 'node:path';
import type { AppConfig } from '../config/index.js';
import type { Database } from './database.js';
import { EmbeddedDatabase } from './embedded/embedded.database.js';
import { PostgresDatabase } from './postgres/postgres.database.js';

/** PostgreSQL when `database.url` (DATABASE_URL) is set, the embedded database otherwise. */
export async function openDatabase(
  config: AppConfig,
  applicationName = 'pipeline-daemon',
): Promise<Database> {
  const { database } = config;
  if (database.url) {
    return new PostgresDatabase({
      url: database.url,
      poolSize: database.pool_size,
      statementTimeoutMs: database.statement_timeout_ms,
      connectTimeoutMs: database.connect_timeout_ms,
      applicationName,
    });
  }
  return EmbeddedDatabase.open({
    dir: join(config.dataDir, 'db'),
    poolSize: database.pool_size,
    port: database.embedded_port,
    sharedBuffersMb: database.embedded_shared_buffers_mb,
  });
}
