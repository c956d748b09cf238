/**
 * The daemon's HTTP application in this process (for supertest), on a fresh database of the kind
 * the server allows, with test stages instead of the plugins and a bearer token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { buildConfig } from '../../libs/config/index.js';
import { silentLogger } from '../../libs/logging/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';
import { createDaemon, type Daemon } from '../../apps/daemon/src/serve.js';
import { freshEmbedded, freshPostgres, postgresAvailable, type TestDatabase } from './databases.js';

export async function testDaemon(options: {
  readonly token: string;
  readonly plugins: Type[];
  /** More of the `pipeline` config section. */
  readonly pipeline?: Record<string, unknown>;
}): Promise<{ daemon: Daemon; t: TestDatabase }> {
  const t = postgresAvailable ? await freshPostgres() : await freshEmbedded();
  const daemon = await createDaemon(
    {
      config: buildConfig({
        pipeline: { data_dir: mkdtempSync(join(tmpdir(), 'http-daemon-')), ...options.pipeline },
        http: { api_token: options.token },
        scheduler: { enabled: false },
      }),
      db: t.db,
      logger: silentLogger,
      metrics: new PipelineMetrics(),
      codeVersion: 'test',
    },
    { schedule: false, plugins: options.plugins },
  );
  return { daemon, t };
}
