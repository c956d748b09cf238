/**
 * The daemon's HTTP application in this process (for supertest), on a fresh database of the kind
 * the server allows, with test stages instead of the plugins and a bearer token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../libs/config/index.js';
import { silentLogger } from '../../libs/logging/index.js';
import { PipelineMetrics } from '../../libs/metrics/index.js';
import { definePlugin, pluginFromModule, type StageClass } from '../../libs/kernel/index.js';
import { createDaemon, type Daemon } from '../../apps/daemon/src/serve.js';
import { freshEmbedded, freshPostgres, postgresAvailable, type TestDatabase } from './databases.js';

export async function testDaemon(options: {
  readonly token: string;
  /** The test's stages, loaded as one plugin the way `plugins:` loads a package. */
  readonly stages: StageClass[];
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
      plugins: [
        pluginFromModule('test-stages', {
          default: definePlugin({
            name: 'test-stages',
            version: '1.0.0',
            kernelApi: '^1.0.0',
            stages: options.stages,
          }),
        }),
      ],
    },
    { schedule: false },
  );
  return { daemon, t };
}
