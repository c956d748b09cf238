import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { KernelRuntime } from '../../../libs/kernel/index.js';
import { PipelineKernel, RunScheduler } from '../../../libs/kernel/index.js';
import { AppModule } from './app.module.js';
import { ApiExceptionFilter } from './http/api-exception.filter.js';
import { serveOpenApi } from './http/openapi.js';

export interface Daemon {
  readonly app: NestExpressApplication;
  readonly kernel: PipelineKernel;
  /** Stops scheduling, lets the running stage finish within the grace period, closes everything. */
  stop(): Promise<void>;
}

/**
 * Every answer's security headers (helmet). The run page keeps an operator's bearer token for its
 * tab and has cancel and retry buttons, so: its script and style only from this daemon, nothing
 * inline, no framing (clickjacking), no referrer, no content sniffing, no X-Powered-By. No HSTS: the daemon speaks
 * plain HTTP, and TLS (with its policy) belongs to the ingress in front of it.
 */
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  strictTransportSecurity: false,
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
});

/** Builds the HTTP application (without listening): tests use it with supertest. */
export async function createDaemon(
  runtime: KernelRuntime,
  options: { schedule: boolean } = { schedule: true },
): Promise<Daemon> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(runtime, { http: true }), {
    bodyParser: false,
    logger: false,
  });
  app.useBodyParser('json', { limit: runtime.config.http.body_limit });
  app.useGlobalFilters(new ApiExceptionFilter(runtime.logger));
  app.use(securityHeaders);
  if (options.schedule) app.get(RunScheduler).enable();
  serveOpenApi(app);
  await app.init();
  const kernel = app.get(PipelineKernel);
  const stopRefresh = options.schedule ? kernel.startMetricsRefresh(60_000) : () => undefined;
  let stopping: Promise<void> | null = null;
  return {
    app,
    kernel,
    stop: () =>
      (stopping ??= (async () => {
        stopRefresh();
        await kernel.runs.shutdown(runtime.config.http.shutdown_grace_ms);
        await app.close();
        await runtime.db.close();
      })()),
  };
}

/** `pipeline serve`: the long-running daemon. SIGTERM/SIGINT shut it down gracefully, exit 0. */
export async function serve(runtime: KernelRuntime): Promise<void> {
  const daemon = await createDaemon(runtime, { schedule: true });
  const { host, port } = runtime.config.http;
  await daemon.app.listen(port, host);
  runtime.logger.info('daemon listening', {
    host,
    port,
    database: runtime.db.description,
    stages: daemon.kernel.registry.ordered.map((s) => s.name),
  });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      runtime.logger.info('shutting down', { signal, graceMs: runtime.config.http.shutdown_grace_ms });
      void daemon.stop().then(resolve, (error: unknown) => {
        runtime.logger.error('shutdown failed', { error: error as Error });
        resolve();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  runtime.logger.info('daemon stopped');
}
